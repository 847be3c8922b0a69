"""「受診のときは」 on a phone: the demo household and a generated one with a person in each
R5 status. Each person's sentence on the page is the one ``member.clinic`` words for
them, the household summary names everyone first, and axe finds nothing serious."""

import os
from datetime import timedelta

import pytest
from django.core.management import call_command

from eligibility import rules, selectors
from eligibility.models import Household, Person
from eligibility.rules import Status
from member import proofs, situation
from tests.browser_support import PASSWORD, assert_accessible, login
from tests.factories import CardFactsFactory, HouseholdFactory, PersonFactory, verified_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def _expected(persons) -> dict[int, situation.Situation]:
    today = selectors.today()
    statuses = {p.pk: situation.status_of(p, today=today) for p in persons}
    proof_of = proofs.proofs_for(persons, today=today, statuses=statuses)
    return {p.pk: situation.situation_of(p, today=today, proof=proof_of[p.pk]) for p in persons}


def _walk(browser, live_server, email, password, persons):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport=PHONE, is_mobile=True)
    page = context.new_page()
    try:
        login(page, live_server, email, password)
        page.goto(f"{live_server.url}/my/")
        summary = page.locator(".clinic-summary")
        # The summary comes first: on a phone it is on the first screen.
        assert summary.bounding_box()["y"] < PHONE["height"]
        expected = _expected(persons)
        for person in persons:
            s = expected[person.pk]
            assert person.name in summary.inner_text()
            card = page.locator(f"section[aria-labelledby='person-{person.pk}-name']")
            assert card.locator(".clinic-today").inner_text() == s.answer.today, person.name
            assert card.locator(".clinic-next").inner_text().endswith(s.answer.next), person.name
        assert_accessible(page)
        # The お知らせ page and each person's request page (the ex-officio note or the reasons) too.
        page.goto(f"{live_server.url}/my/notices/")
        assert page.locator("a[href$='/pdf/']").count() == len(persons)
        assert_accessible(page)
        for person in persons:
            page.goto(f"{live_server.url}/certificates/request/{person.pk}/")
            assert_accessible(page)
        page.goto(f"{live_server.url}/my/")
        if folder := os.environ.get("KENPO_SCREENSHOTS"):  # to look at by eye
            page.screenshot(path=os.path.join(folder, f"clinic-{email.split('@')[0]}.png"))
        return expected
    finally:
        context.close()


def test_the_demo_household_on_a_phone(browser, live_server):
    call_command("seed_demo", persons=4)
    household = Household.objects.order_by("id").first()
    persons = list(Person.objects.filter(household=household).select_related("household", "card")
                   .order_by("branch_number"))
    expected = _walk(browser, live_server, "member@example.jp", "kenpo-demo-2025", persons)
    # The demo shows the main situations side by side (seed_demo): each has its own words.
    assert len({s.answer.today for s in expected.values()}) >= 3


def test_a_household_with_a_person_in_each_status_on_a_phone(browser, live_server):
    today = selectors.today()
    household = HouseholdFactory(symbol="4321", number="8765")
    soon, passed = today + timedelta(days=40), today - timedelta(days=40)
    long_ago = today - timedelta(days=200)

    def person(branch, relationship, birth, **card):
        p = PersonFactory(household=household, branch_number=branch, relationship=relationship, birth_date=birth,
                          given_name=f"名{branch}", eligible_from=today - timedelta(days=3000))
        if card:
            CardFactsFactory(person=p, **card)
        return p

    insured = person("00", "self", rules.birthday_in(today + timedelta(days=500), 1980),
                     card_expires_on=rules.birthday_in(today + timedelta(days=500), today.year + 6),
                     ecert_expires_on=rules.birthday_in(today + timedelta(days=500), today.year + 1))
    person("01", "spouse", rules.birthday_in(soon, 1982),
           card_expires_on=rules.birthday_in(soon, soon.year + 5), ecert_expires_on=soon)
    person("02", "child", rules.birthday_in(today, 2016))  # no card facts: nobody has said (unknown)
    person("06", "child", rules.birthday_in(today, 2018), has_card=False, registered=False,
           card_expires_on=None, ecert_expires_on=None)  # no card
    person("03", "parent", rules.birthday_in(today, 1960), registered=False,
           card_expires_on=rules.birthday_in(today + timedelta(days=900), today.year + 3), ecert_expires_on=None)
    person("04", "other", rules.birthday_in(passed, 1970),
           card_expires_on=rules.birthday_in(passed, passed.year + 5), ecert_expires_on=passed)
    person("05", "other", rules.birthday_in(long_ago, 1972),
           card_expires_on=rules.birthday_in(long_ago, long_ago.year + 5), ecert_expires_on=long_ago)
    verified_member(insured, "kazoku@example.jp")
    persons = list(Person.objects.filter(household=household).select_related("household", "card")
                   .order_by("branch_number"))
    expected = _walk(browser, live_server, "kazoku@example.jp", PASSWORD, persons)
    assert {s.status for s in expected.values()} == set(Status)
