"""A contact's month in a real browser (issue 23's 'done when'), with axe on every
employer page at 390 and 1280 px, and staff seeing each step."""

import pytest

from certificates import services
from certificates.models import Collection, PacketItem, ReissueRequest
from eligibility.selectors import today
from staff.roles import CLERK
from staff.testing import totp_code
from tests.browser_support import assert_accessible

from .conftest import PASSWORD, household, make_contact, packet_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def accessible_at_both_widths(page) -> None:
    for width, height in ((390, 844), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        assert_accessible(page)


def submit(page, selector="main form button[type=submit]"):
    page.click(selector)
    page.wait_for_load_state()


def test_a_contact_s_month(browser_page, live_server, settings, employer_a, client):
    settings.MFA_TOTP_TOLERANCE = 1
    people = [p for n in range(21) for p in household(employer_a, number=str(500 + n), family=f"社員{n:02d}")]
    packet, _certs = packet_for(people)
    leaver = people[0]
    contact = make_contact(employer_a, email="hr-a@example.jp")
    page = browser_page

    # Sign in with password and TOTP: the contact lands on its 事業所's page.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "hr-a@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/2fa/authenticate/" in page.url
    page.fill("input[name=code]", totp_code(contact))
    submit(page)
    assert page.url.endswith(f"/employer/{employer_a.pk}/")
    accessible_at_both_widths(page)

    # Open the new packet and print its list.
    page.click(f"text=送付 #{packet.pk}")
    page.wait_for_load_state()
    accessible_at_both_widths(page)
    with page.expect_download() as download:
        page.click("text=一覧表を印刷する（PDF）")
    assert download.value.suggested_filename.endswith(".pdf")

    # 40 handed over, 2 returned (one has left, one is away).
    boxes = page.locator("input[name=items]")
    assert boxes.count() == 42
    for i in range(40):
        boxes.nth(i).check()
    submit(page, "button[value=handed]")
    assert "40件を記録しました" in page.content()
    boxes = page.locator("input[name=items]")
    assert boxes.count() == 2
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.select_option("#return_reason", "absent")
    submit(page, "button[value=returned]")
    assert PacketItem.objects.filter(packet=packet, state="handed").count() == 40
    assert PacketItem.objects.filter(packet=packet, state="returned").count() == 2

    # An application for a dependent.
    page.click("text=資格確認書を申請する")
    page.wait_for_load_state()
    accessible_at_both_widths(page)
    page.fill("input[name=symbol]", "77")
    page.fill("input[name=number]", "503")
    submit(page)
    page.click("text=社員03 こども")
    page.wait_for_load_state()
    accessible_at_both_widths(page)
    page.check("input[value=no_card]")
    submit(page)
    accessible_at_both_widths(page)
    submit(page)
    assert "申請を受け付けました" in page.content()
    assert ReissueRequest.objects.get(person__household__number="503", person__branch_number="01").via_employer_id

    # A leaver (handed over this month) leaves: the certificate is collected.
    leaver.eligible_until = today()
    leaver.save()
    services.certificates_void_ended_eligibility(today=today())
    page.click("text=退職者の資格確認書の回収")
    page.wait_for_load_state()
    accessible_at_both_widths(page)
    submit(page, f"button[aria-label='{leaver.name}：回収済み']")
    assert Collection.objects.get(certificate__person=leaver).outcome == "collected"

    # Staff see each of these on the 事業所's page.
    from staff.testing import login_with_mfa, make_staff

    login_with_mfa(client, make_staff(role=CLERK, email="clerk@example.jp"))
    staff_page = client.get(f"/staff/employers/{employer_a.pk}/")
    figures = staff_page.context["figures"]
    assert (figures["out"], figures["returned"], figures["applications"]) == (0, 2, 1)
    assert staff_page.context["handed"] == 40
    assert "社員03 こども" in staff_page.content.decode()


def test_the_invitation_and_other_employer_pages_are_accessible(browser_page, live_server, settings, employer_a,
                                                               employer_b):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    settings.MFA_TOTP_TOLERANCE = 1
    page = browser_page
    user = make_contact(employer_a, employer_b, email="two@example.jp")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    page.goto(f"{live_server.url}/employer/invite/{uid}/{default_token_generator.make_token(user)}/")
    accessible_at_both_widths(page)
    page.goto(f"{live_server.url}/employer/invite/{uid}/wrong-token/")
    accessible_at_both_widths(page)
    # A contact of two 事業所 chooses one first; a refused reason is explained.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "two@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()
    page.fill("input[name=code]", totp_code(user))
    submit(page)
    assert page.url.endswith("/employer/"), page.inner_text("main")
    accessible_at_both_widths(page)
    _insured, child = household(employer_b, number="900", family="二社")
    page.goto(f"{live_server.url}/employer/{employer_b.pk}/apply/{child.pk}/")
    page.check("input[value=nursery]")
    submit(page)
    assert "コピー" in page.content()
    accessible_at_both_widths(page)
