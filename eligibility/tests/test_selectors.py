"""The SQL status (selectors.with_status) agrees with rules.insurance_status everywhere."""

from datetime import date, timedelta

import pytest

from eligibility import rules, selectors
from eligibility.models import Person
from tests.factories import CardFactsFactory, HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

EXPIRY = date(2026, 11, 14)
OPENS = rules.renewal_opens(EXPIRY)
GRACE = rules.grace_ends(EXPIRY)
ONE = timedelta(days=1)
BOUNDARY_DAYS = sorted({d + k * ONE for d in (OPENS, EXPIRY, GRACE) for k in (-1, 0, 1)})


def _population():
    household = HouseholdFactory()
    branch = iter(range(100))
    combos = [
        # (has_card, registered, ecert, card)
        (None, False, None, None),  # nobody has said: unknown
        (False, False, None, None),
        (True, False, EXPIRY, date(2031, 11, 14)),
        (True, True, EXPIRY, date(2031, 11, 14)),  # ecert first
        (True, True, None, EXPIRY),  # ecert unknown: the card decides
        (True, True, date(2031, 11, 14), EXPIRY),  # card first
        (True, True, EXPIRY, EXPIRY),  # same day
        (True, True, None, None),  # registered, no dates known
        (True, False, None, None),
    ]
    for has_card, registered, ecert, card in combos:
        person = PersonFactory(household=household, branch_number=f"{next(branch):02d}")
        CardFactsFactory(person=person, has_card=has_card, registered=registered, ecert_expires_on=ecert,
                         card_expires_on=card)
    PersonFactory(household=household, branch_number=f"{next(branch):02d}")  # no card facts row at all


def test_sql_status_agrees_with_the_rules_on_every_boundary():
    _population()
    for day in BOUNDARY_DAYS:
        for person in selectors.with_status(Person.objects.select_related("card"), day=day):
            facts = getattr(person, "card", None) if hasattr(person, "card") else None
            expected = rules.Status.UNKNOWN if facts is None else facts.status_on(day)
            assert person.status == expected, (day, person.pk)


def test_eligible_on_counts_the_end_date_as_the_first_day_without_eligibility():
    person = PersonFactory(eligible_from=date(2020, 4, 1), eligible_until=date(2026, 4, 1))
    matches = lambda day: Person.objects.filter(selectors.eligible_on(day), pk=person.pk).exists()  # noqa: E731
    assert not matches(date(2020, 3, 31))
    assert matches(date(2020, 4, 1))
    assert matches(date(2026, 3, 31))
    assert not matches(date(2026, 4, 1))


def test_the_dashboards_one_query_shows_what_persons_for_member_shows(alice, bob, charlie, household):
    from tests.factories import UserFactory

    for user in (alice, bob, charlie, UserFactory()):
        link, persons = selectors.split_dashboard_rows(list(selectors.dashboard_rows(user)), user)
        assert [p.pk for p in persons] == [p.pk for p in selectors.persons_for_member(user)]
        expected = selectors.member_link_for(user)
        assert (link.pk if link else None) == (expected.pk if expected else None)


def test_voluntary_continuation_ends_eligibility_after_its_last_day_in_python_and_in_sql():
    last_day = date(2027, 8, 31)
    ended = PersonFactory(household=HouseholdFactory(voluntary_continuation=True,
                                                     voluntary_continuation_ends_on=last_day),
                          eligible_from=date(2025, 9, 1))
    open_ended = PersonFactory(household=HouseholdFactory(voluntary_continuation=True,
                                                          voluntary_continuation_ends_on=None),
                               eligible_from=date(2025, 9, 1))
    # An end date left on a household that is no longer in 任意継続 does not count.
    stale = PersonFactory(household=HouseholdFactory(voluntary_continuation=False,
                                                     voluntary_continuation_ends_on=date(2026, 1, 31)),
                          eligible_from=date(2025, 9, 1))
    for day, expected in [(last_day - ONE, {ended, open_ended, stale}), (last_day, {ended, open_ended, stale}),
                          (last_day + ONE, {open_ended, stale})]:
        in_sql = set(Person.objects.filter(selectors.eligible_on(day)).select_related("household"))
        in_python = {p for p in Person.objects.select_related("household") if p.is_eligible_on(day)}
        assert in_sql == in_python == expected, day


def test_an_e_mail_about_a_person_goes_to_the_active_verified_logins_that_see_them(alice, bob, alice_person,
                                                                                  bob_person):
    """One rule for every e-mail (reminders, お知らせ, request outcomes): a person's own login
    and the insured person's, when active and with a verified primary address."""
    from allauth.account.models import EmailAddress

    seeing = selectors.logins_seeing([alice_person, bob_person])
    assert [login.email for login in seeing[alice_person.pk]] == ["alice@example.jp"]
    assert sorted(login.email for login in seeing[bob_person.pk]) == ["alice@example.jp", "bob@example.jp"]
    assert selectors.verified_email(bob) == "bob@example.jp"
    EmailAddress.objects.filter(user=bob).update(verified=False)
    alice.is_active = False
    alice.save()
    seeing = selectors.logins_seeing([alice_person, bob_person])
    assert seeing == {alice_person.pk: [], bob_person.pk: []}
    assert selectors.verified_email(bob) is None and selectors.verified_email(alice) is None
