"""A member's whole first visit, in a real browser: sign up, verify the e-mail, link with the
postcard's activation code, read the dashboard, update a card fact, download the calendar.
axe-core checks every member page on the way."""

import os
import re
from datetime import date

import pytest
from django.core import mail

from eligibility.linking import issue_activation_code
from eligibility.models import CardFactsChange, MemberLink
from tests.browser_support import PASSWORD, assert_accessible, login
from tests.factories import CardFactsFactory, PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    """KENPO_SCREENSHOTS=/some/dir keeps a picture of the page, to look at by eye."""
    folder = os.environ.get("KENPO_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


@pytest.fixture
def family(household, alice_person):
    spouse = PersonFactory(household=household, branch_number="01", relationship="spouse", given_name="次郎",
                           birth_date=date(1983, 5, 3))
    CardFactsFactory(person=spouse, registered=False, card_expires_on=date(2032, 5, 3), ecert_expires_on=None,
                     ecert_source="unknown")
    return alice_person, spouse


def test_member_signs_up_links_and_uses_the_dashboard(browser_page, live_server, family, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    alice_person, spouse = family
    code = issue_activation_code(person=alice_person)
    page = browser_page

    # Sign up; e-mail verification is mandatory.
    page.goto(f"{live_server.url}/accounts/signup/")
    assert_accessible(page)
    page.fill("input[name=email]", "hanako@example.jp")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("form[action$='/accounts/signup/'] button[type=submit]")
    page.wait_for_load_state()
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(link.replace("http://testserver", live_server.url).replace("https://testserver", live_server.url))
    page.click("form button[type=submit] >> nth=-1")
    page.wait_for_load_state()

    # Not linked yet: the dashboard sends the member to the link page.
    page.goto(f"{live_server.url}/my/")
    assert page.url.endswith("/my/link/")
    assert_accessible(page)
    page.fill("input[name=symbol]", "1234")
    page.fill("input[name=number]", "5678")
    page.fill("input[name=branch_number]", "00")
    page.fill("input[name=birth_date]", "1985-11-14")
    page.fill("input[name=code]", "WRONG-CODE-0000")
    page.click("main form button[type=submit]")
    assert page.get_by_text("入力された内容では連携できませんでした").is_visible()
    assert_accessible(page)
    page.fill("input[name=code]", code)
    page.fill("input[name=birth_date]", "1985-11-14")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/my/")
    assert MemberLink.objects.get(user__email="hanako@example.jp").person == alice_person

    # The dashboard: one card per person, status in words, the next step.
    assert page.locator("section.person-card").count() == 2
    assert page.get_by_text("保険証の利用登録がまだです").first.is_visible()
    assert page.locator(".next-step").first.is_visible()
    _shot(page, "dashboard")
    assert_accessible(page)

    # Update the spouse's card facts: now registered, e-certificate 5 years before the card.
    page.click(f"a[href='/my/person/{spouse.pk}/card/']")
    _shot(page, "card_facts")
    assert_accessible(page)
    page.check("input[name=registered][value=yes]")
    page.check("input[name=ecert_choice][value=five_years_before]")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/my/")
    assert page.get_by_text("カード情報を更新しました").is_visible()
    change = CardFactsChange.objects.get(person=spouse)
    assert change.changed_by.email == "hanako@example.jp" and change.after["registered"] is True
    assert_accessible(page)

    # A wrong date gets a message in the page's language, on an accessible page.
    page.click(f"a[href='/my/person/{spouse.pk}/card/']")
    page.fill("input[name=card_expires_on]", "2032-05-04")
    page.click("main form button[type=submit]")
    assert page.get_by_text("誕生日になっているはず").is_visible()
    _shot(page, "card_facts_error")
    assert_accessible(page)

    # The calendar of key dates.
    page.goto(f"{live_server.url}/my/")
    with page.expect_download() as download_info:
        page.click("a[href='/my/calendar.ics']")
    body = open(download_info.value.path(), encoding="utf-8").read()
    assert "BEGIN:VCALENDAR" in body and "DTSTART;VALUE=DATE:20261114" in body


def test_member_pages_and_guides_are_accessible_in_both_languages(browser_page, live_server, alice):
    page = browser_page
    login(page, live_server, "alice@example.jp")
    for path in ["/my/", "/my/guides/", "/my/guides/benefits/", "/my/guides/get-card/", "/my/guides/register/",
                 "/my/guides/smartphone/", "/my/guides/renewal/", "/my/guides/certificate/"]:
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page)
    page.click("form.language-switch button")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_text("Renewing the e-certificate and the card").first.is_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/my/")
    assert page.get_by_role("heading", name="My household").is_visible()
    _shot(page, "dashboard_en")
    assert_accessible(page)


def test_a_dependent_sees_only_themself(browser_page, live_server, bob, alice_person):
    page = browser_page
    login(page, live_server, "bob@example.jp")
    page.goto(f"{live_server.url}/my/")
    assert page.locator("section.person-card").count() == 1
    assert page.get_by_role("heading", name=re.compile("佐藤 一郎")).is_visible()
    response = page.goto(f"{live_server.url}/my/person/{alice_person.pk}/card/")
    assert response.status == 404
