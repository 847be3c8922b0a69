"""Issue 21, the household at a glance on a phone (390 px): a household of six where only
the last of them needs action. The header is one compact row (the menu folds into a
<details>, no JavaScript), the summary lists the person who needs action first, and that
line is on the first screen; axe finds nothing, with the menu closed and open."""

from datetime import timedelta

import pytest

from eligibility import rules, selectors
from tests.browser_support import PASSWORD, assert_accessible, login
from tests.factories import CardFactsFactory, HouseholdFactory, PersonFactory, verified_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def test_a_household_of_six_shows_the_one_who_needs_action_on_the_first_screen(browser, live_server):
    today = selectors.today()
    household = HouseholdFactory(symbol="5555", number="6666")
    far = today + timedelta(days=1500)

    def person(branch, relationship, birth_year, **card):
        p = PersonFactory(household=household, branch_number=branch, relationship=relationship,
                          birth_date=rules.birthday_in(far, birth_year), given_name=f"名{branch}",
                          eligible_from=today - timedelta(days=3000))
        CardFactsFactory(person=p, **card)
        return p

    working = {"card_expires_on": rules.birthday_in(far, far.year + 5), "ecert_expires_on": far}
    insured = person("00", "self", 1980, **working)
    for branch, relationship, year in (("01", "spouse", 1982), ("02", "child", 2010), ("03", "child", 2012),
                                       ("04", "parent", 1956)):
        person(branch, relationship, year, **working)
    # The last of six: no card, no certificate, not covered ex officio (enrolled after the cutoff).
    last = PersonFactory(household=household, branch_number="05", relationship="child", given_name="名05",
                         birth_date=today - timedelta(days=400), eligible_from=today - timedelta(days=400))
    CardFactsFactory(person=last, has_card=False, registered=False, card_expires_on=None, ecert_expires_on=None)
    verified_member(insured, "six@example.jp")

    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport=PHONE, is_mobile=True)
    page = context.new_page()
    try:
        login(page, live_server, "six@example.jp", PASSWORD)
        page.goto(f"{live_server.url}/my/")
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 90, header  # one row: name, menu button, language (was 235 px)
        assert not page.locator(".site-nav").is_visible()  # folded until opened
        lines = page.locator(".clinic-summary-list > li")
        assert lines.count() == 6
        first = lines.nth(0)
        assert last.name in first.inner_text() and "needs-action" in first.get_attribute("class")
        box = first.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], box  # on the first screen
        assert "対応が必要な方が 1 人います" in page.locator(".clinic-summary").inner_text()
        assert_accessible(page)
        page.locator(".site-menu > summary").click()
        assert page.locator(".site-nav").get_by_role("link", name="申請の履歴").is_visible()
        assert_accessible(page)
    finally:
        context.close()
