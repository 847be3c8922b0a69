"""The date rules of RULES.md: every public vector, the edges, and the invariants."""

from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from eligibility import rules
from eligibility.rules import Status

D = date.fromisoformat

# birth, issued, card, ecert, opens, grace — RULES.md "Test vectors (public)".
VECTORS = [
    ("1985-11-14", "2021-11-20", "2031-11-14", "2026-11-14", "2026-08-15", "2027-02-28"),
    ("1990-10-10", "2020-05-15", "2029-10-10", "2024-10-10", "2024-07-11", "2025-01-31"),
    ("1975-12-31", "2016-01-04", "2025-12-31", "2020-12-31", "2020-10-01", "2021-03-31"),
    ("2007-06-15", "2025-06-14", "2029-06-15", "2029-06-15", "2029-03-16", "2029-09-30"),
    ("2007-06-15", "2025-06-15", "2035-06-15", "2030-06-15", "2030-03-16", "2030-09-30"),
    ("2010-06-15", "2025-03-01", "2029-06-15", "2029-06-15", "2029-03-16", "2029-09-30"),
    ("2000-02-29", "2020-03-10", "2030-02-28", "2025-02-28", "2024-11-29", "2025-05-31"),
    ("1960-08-31", "2021-09-01", "2031-08-31", "2026-08-31", "2026-06-01", "2026-11-30"),
    ("1988-11-30", "2020-12-01", "2030-11-30", "2025-11-30", "2025-08-31", "2026-02-28"),
    ("1992-12-25", "2020-12-26", "2030-12-25", "2025-12-25", "2025-09-26", "2026-03-31"),
    ("1985-01-31", "2021-02-01", "2031-01-31", "2026-01-31", "2025-11-01", "2026-04-30"),
    ("1999-07-07", "2024-12-02", "2034-07-07", "2029-07-07", "2029-04-08", "2029-10-31"),
    ("2011-02-28", "2026-01-10", "2030-02-28", "2030-02-28", "2029-11-29", "2030-05-31"),
]


@pytest.mark.parametrize(("birth", "issued", "card", "ecert", "opens", "grace"), VECTORS)
def test_it_meets_every_public_vector(birth, issued, card, ecert, opens, grace):
    card_expiry = rules.card_expiry(D(birth), D(issued))
    ecert_expiry = rules.ecert_expiry(D(birth), D(issued), card_expires_on=card_expiry)
    assert card_expiry == D(card)
    assert ecert_expiry == D(ecert)
    assert rules.renewal_opens(ecert_expiry) == D(opens)
    assert rules.grace_ends(ecert_expiry) == D(grace)


@pytest.mark.parametrize(("renewed_on", "new_ecert"), [("2026-09-01", "2031-11-14"), ("2026-08-14", "2030-11-14"), ("2027-03-01", "2031-11-14")])
def test_it_meets_the_renewal_vectors(renewed_on, new_ecert):
    birth, card = D("1985-11-14"), D("2031-11-14")
    first = rules.ecert_expiry(birth, D("2021-11-20"), card_expires_on=card)
    assert first == D("2026-11-14")
    assert rules.ecert_expiry(birth, D(renewed_on), card_expires_on=card, previous_expiry=first) == D(new_ecert)


def test_a_renewal_inside_the_window_counts_the_sixth_birthday():
    # Card issued 2020 to an adult born 1980-05-20: card 2030-05-20, so the cap does not bite.
    birth = D("1980-05-20")
    card = D("2040-05-20")  # a later printed card expiry, to see the uncapped 6th birthday
    first = D("2025-05-20")
    assert rules.ecert_expiry(birth, D("2025-03-01"), card_expires_on=card, previous_expiry=first) == D("2030-05-20")
    # One day before the window opens, the 5th birthday applies.
    assert rules.ecert_expiry(birth, D("2025-02-20"), card_expires_on=card, previous_expiry=first) == D("2029-05-20")
    # Both window ends are inclusive: it opens the day after the date 3 months before (R3).
    assert rules.ecert_expiry(birth, D("2025-02-21"), card_expires_on=card, previous_expiry=first) == D("2030-05-20")
    assert rules.ecert_expiry(birth, D("2025-05-20"), card_expires_on=card, previous_expiry=first) == D("2031-05-20")


def test_applications_before_april_2022_use_twenty_as_adult_age():
    birth = D("2003-01-10")  # 19 on both days below
    assert rules.card_expiry(birth, D("2022-05-01"), applied_on=D("2022-03-31")) == D("2027-01-10")
    assert rules.card_expiry(birth, D("2022-05-01"), applied_on=D("2022-04-01")) == D("2032-01-10")
    # Unknown application date: the issue date decides.
    assert rules.card_expiry(birth, D("2022-03-31")) == D("2027-01-10")


def test_a_birthday_on_the_issue_day_does_not_count():
    assert rules.card_expiry(D("1980-03-01"), D("2020-03-01")) == D("2030-03-01")
    assert rules.nth_birthday_after(D("1980-03-01"), D("2020-03-01"), 1) == D("2021-03-01")


def test_feb_29_people_have_feb_28_expiries_in_common_years_and_feb_29_in_leap_years():
    birth = D("2000-02-29")
    assert rules.card_expiry(birth, D("2022-05-01")) == D("2032-02-29")
    assert rules.card_expiry(birth, D("2023-03-10")) == D("2033-02-28")
    # ... and turn a year older on Mar 1 in common years.
    assert rules.age_on(birth, D("2018-02-28")) == 17
    assert rules.age_on(birth, D("2018-03-01")) == 18


@pytest.mark.parametrize(("expiry", "opens"), [
    ("2026-05-31", "2026-03-01"), ("2028-05-31", "2028-03-01"), ("2026-03-31", "2026-01-01"),
    ("2026-01-15", "2025-10-16"), ("2026-12-31", "2026-10-01"), ("2026-08-17", "2026-05-18"),
    ("2027-05-30", "2027-03-01"), ("2028-05-29", "2028-03-01"), ("2028-05-30", "2028-03-01"),
])
def test_renewal_opens_the_day_after_the_date_three_months_before_clamped_to_a_shorter_month(expiry, opens):
    assert rules.renewal_opens(D(expiry)) == D(opens)


@pytest.mark.parametrize(("expiry", "grace"), [
    ("2025-11-10", "2026-02-28"), ("2027-11-10", "2028-02-29"), ("2026-02-14", "2026-05-31"),
    ("2026-10-01", "2027-01-31"), ("2026-12-31", "2027-03-31"),
])
def test_grace_ends_on_the_last_day_of_the_third_month_after(expiry, grace):
    assert rules.grace_ends(D(expiry)) == D(grace)


def test_ecert_candidates_are_five_years_before_and_the_card_expiry():
    assert rules.ecert_candidates(D("2031-11-14"), birth_date=D("1985-11-14")) == (D("2026-11-14"), D("2031-11-14"))
    assert rules.ecert_candidates(D("2030-02-28"), birth_date=D("2000-02-29")) == (D("2025-02-28"), D("2030-02-28"))


def test_ecert_candidates_of_a_feb_29_person_fall_on_feb_29_in_a_leap_year():
    # Card issued 2019-03-10 to a person born 1988-02-29: card 2029-02-28, first certificate 2024-02-29.
    card = rules.card_expiry(D("1988-02-29"), D("2019-03-10"))
    first = rules.ecert_expiry(D("1988-02-29"), D("2019-03-10"), card_expires_on=card)
    assert rules.ecert_candidates(card, birth_date=D("1988-02-29")) == (first, card) == (D("2024-02-29"), D("2029-02-28"))


def _status(today, *, has_card=True, registered=True, ecert="2026-11-14", card="2031-11-14"):
    return rules.insurance_status(has_card=has_card, registered=registered,
                                  ecert_expires_on=D(ecert) if ecert else None,
                                  card_expires_on=D(card) if card else None, today=D(today))


def test_status_follows_r5_across_every_boundary():
    assert _status("2026-01-01", has_card=False) == Status.NO_CARD
    assert _status("2026-01-01", registered=False) == Status.NOT_REGISTERED
    assert _status("2026-08-14") == Status.ACTIVE
    assert _status("2026-08-15") == Status.RENEW_NOW
    assert _status("2026-11-14") == Status.RENEW_NOW
    assert _status("2026-11-15") == Status.GRACE
    assert _status("2027-02-28") == Status.GRACE
    assert _status("2027-03-01") == Status.LAPSED


def test_status_uses_the_card_expiry_when_the_ecert_expiry_is_unknown():
    assert _status("2031-08-15", ecert=None) == Status.RENEW_NOW
    assert _status("2031-08-14", ecert=None) == Status.ACTIVE
    assert _status("2031-01-01", ecert=None, card=None) == Status.ACTIVE


def test_status_returns_plain_strings():
    assert _status("2026-08-15") == "renew_now"
    assert isinstance(_status("2026-08-15"), str)


@pytest.mark.parametrize(("birth", "copay_from"), [
    ("1956-05-20", "2026-06-01"),  # the month after the 70th birthday's month
    ("1956-05-01", "2026-05-01"),  # born on the 1st: that month itself
    ("1956-12-20", "2027-01-01"),  # over a year's end
    ("1956-02-29", "2026-03-01"),  # Feb 29: its month is February in a common year too
])
def test_the_copay_ratio_applies_from_the_month_after_the_70th_birthday(birth, copay_from):
    assert rules.copay_effective_from(D(birth)) == D(copay_from)


@pytest.mark.parametrize(("birth", "turns_75"), [
    ("1951-11-14", "2026-11-14"), ("1952-02-29", "2027-03-01"), ("1956-02-29", "2031-03-01"),
    ("1951-12-31", "2026-12-31"), ("1952-03-01", "2027-03-01"), ("1953-02-28", "2028-02-28"),
])
def test_eligibility_ends_on_the_75th_birthday_and_mar_1_for_a_feb_29_birth_in_a_common_year(birth, turns_75):
    assert rules.turns_75_on(D(birth)) == D(turns_75)
    assert rules.age_on(D(birth), D(turns_75)) == 75
    assert rules.age_on(D(birth), D(turns_75) - timedelta(days=1)) == 74


@pytest.mark.parametrize(("issued", "birth", "eligible_until", "valid_until"), [
    # Five years less a day.
    ("2025-12-02", "1980-05-05", None, "2030-12-01"),
    # Issued Feb 29 → until Feb 28 five years on (the anniversary is Mar 1).
    ("2028-02-29", "1980-05-05", None, "2033-02-28"),
    # Issued Mar 1 → until the last day of February five years on.
    ("2028-03-01", "1980-05-05", None, "2033-02-28"),
    # Capped at the day before the 75th birthday ...
    ("2025-12-02", "1953-04-10", None, "2028-04-09"),
    # ... which for a Feb 29 birth in a common year is Feb 28 (turns 75 on Mar 1).
    ("2025-12-02", "1952-02-29", None, "2027-02-28"),
    # Capped at the last eligible day when it is known (任意継続's end).
    ("2025-12-02", "1980-05-05", "2027-06-30", "2027-06-30"),
    # The earliest of the three wins.
    ("2025-12-02", "1953-04-10", "2029-01-01", "2028-04-09"),
    ("2025-12-02", "1980-05-05", "2031-01-01", "2030-12-01"),
])
def test_a_certificate_is_valid_five_years_capped_at_75_and_at_the_end_of_eligibility(
    issued, birth, eligible_until, valid_until
):
    assert rules.certificate_valid_until(
        issued_on=D(issued), birth_date=D(birth), eligible_until=D(eligible_until) if eligible_until else None
    ) == D(valid_until)


def test_a_certificate_can_be_valid_for_fewer_years_by_setting():
    assert rules.certificate_valid_until(issued_on=D("2025-12-02"), birth_date=D("1980-05-05"), years=1) == D("2026-12-01")


@pytest.mark.parametrize(("expiry", "listed_from"), [
    ("2026-11-14", "2027-01-01"), ("2026-11-30", "2027-01-01"), ("2026-12-01", "2027-02-01"),
    ("2027-02-28", "2027-04-01"),
])
def test_a_person_in_grace_is_listed_ex_officio_from_the_first_of_the_second_month_after_expiry(expiry, listed_from):
    listed = rules.ex_officio_grace_listing_from(D(expiry))
    assert listed == D(listed_from)
    assert D(expiry) < listed <= rules.grace_ends(D(expiry))


@pytest.mark.parametrize(("birth", "issued", "applied", "minor"), [
    ("2007-06-15", "2025-06-14", None, True),          # 17 on issue day: 5-year card
    ("2007-06-15", "2025-06-15", None, False),         # 18: 10-year card
    ("2002-03-01", "2022-05-01", "2022-03-31", False),  # 20 rule before April 2022, aged 20: adult
    ("2003-01-10", "2022-05-01", "2022-03-31", True),  # 19 under the 20 rule: 5-year card
])
def test_a_card_expiring_before_26_was_issued_to_a_minor(birth, issued, applied, minor):
    card = rules.card_expiry(D(birth), D(issued), applied_on=D(applied) if applied else None)
    assert rules.card_issued_to_a_minor(card, birth_date=D(birth)) == minor


# --- Properties ---------------------------------------------------------------------

births = st.dates(min_value=date(1930, 1, 1), max_value=date(2025, 12, 31))
days = st.dates(min_value=date(2016, 1, 1), max_value=date(2040, 12, 31))


def _is_birthday(birth: date, day: date) -> bool:
    return rules.birthday_in(birth, day.year) == day


@settings(max_examples=400, deadline=None)
@given(birth=births, issued=days, applied_offset=st.integers(min_value=0, max_value=120))
def test_an_expiry_is_always_a_birthday_after_the_issue_date(birth, issued, applied_offset):
    assume(issued > birth)
    card = rules.card_expiry(birth, issued, applied_on=issued - timedelta(days=applied_offset))
    ecert = rules.ecert_expiry(birth, issued, card_expires_on=card)
    for expiry in (card, ecert):
        assert _is_birthday(birth, expiry)
        assert expiry > issued
    if birth.month == 2 and birth.day == 29:
        for expiry in (card, ecert):
            assert expiry.day == (29 if expiry.year % 4 == 0 and (expiry.year % 100 or expiry.year % 400 == 0) else 28)


@settings(max_examples=400, deadline=None)
@given(birth=births, issued=days, renewed_after=st.integers(min_value=0, max_value=3000))
def test_an_ecert_never_outlives_its_card(birth, issued, renewed_after):
    assume(issued > birth)
    card = rules.card_expiry(birth, issued)
    first = rules.ecert_expiry(birth, issued, card_expires_on=card)
    assert first <= card
    renewed_on = issued + timedelta(days=renewed_after)
    assume(renewed_on < card)
    renewed = rules.ecert_expiry(birth, renewed_on, card_expires_on=card, previous_expiry=first)
    assert renewed <= card
    assert renewed > renewed_on


@settings(max_examples=400, deadline=None)
@given(expiry=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)))
def test_renewal_opens_before_expiry_and_grace_ends_after(expiry):
    opens, grace = rules.renewal_opens(expiry), rules.grace_ends(expiry)
    assert opens < expiry < grace
    assert 88 <= (expiry - opens).days <= 91
    assert (grace + timedelta(days=1)).day == 1  # always a month's last day


@settings(max_examples=400, deadline=None)
@given(
    has_card=st.booleans(), registered=st.booleans(),
    ecert=st.one_of(st.none(), days), card=st.one_of(st.none(), days), today=days,
)
def test_each_day_maps_to_exactly_one_status(has_card, registered, ecert, card, today):
    status = rules.insurance_status(has_card=has_card, registered=registered, ecert_expires_on=ecert,
                                    card_expires_on=card, today=today)
    e = rules.effective_expiry(ecert_expires_on=ecert, card_expires_on=card)
    conditions = {
        Status.NO_CARD: not has_card,
        Status.NOT_REGISTERED: has_card and not registered,
        Status.ACTIVE: has_card and registered and (e is None or today < rules.renewal_opens(e)),
        Status.RENEW_NOW: has_card and registered and e is not None and rules.renewal_opens(e) <= today <= e,
        Status.GRACE: has_card and registered and e is not None and e < today <= rules.grace_ends(e),
        Status.LAPSED: has_card and registered and e is not None and today > rules.grace_ends(e),
    }
    assert [s for s, holds in conditions.items() if holds] == [status]


@settings(max_examples=400, deadline=None)
@given(birth=births, issued=days, years=st.integers(min_value=1, max_value=5),
       eligible_until=st.one_of(st.none(), days))
def test_a_certificate_never_outlives_74_nor_the_known_end_of_eligibility(birth, issued, years, eligible_until):
    valid_until = rules.certificate_valid_until(issued_on=issued, birth_date=birth, years=years,
                                                eligible_until=eligible_until)
    assert valid_until < rules.turns_75_on(birth)
    assert rules.age_on(birth, valid_until) <= 74
    assert valid_until < rules.anniversary(issued, years)
    if eligible_until is not None:
        assert valid_until <= eligible_until
    # Uncapped, it is exactly the day before the anniversary.
    if rules.turns_75_on(birth) > rules.anniversary(issued, years) and eligible_until is None:
        assert valid_until == rules.anniversary(issued, years) - timedelta(days=1)


@settings(max_examples=400, deadline=None)
@given(birth=births, day=days)
def test_turning_75_is_the_first_day_of_age_75(birth, day):
    assert (day >= rules.turns_75_on(birth)) == (rules.age_on(birth, day) >= 75)


# --- R5 unknown ------------------------------------------------------------------------------

@pytest.mark.parametrize("registered", [True, False])
def test_nobody_having_said_whether_there_is_a_card_is_unknown_never_no_card(registered):
    assert _status("2026-01-01", has_card=None, registered=registered) == Status.UNKNOWN
    assert _status("2026-01-01", has_card=None) == "unknown"


# --- The end of eligibility: 75th birthday (R11), 任意継続's last day, a known 資格喪失日 --------------

End = rules.EndCause


@pytest.mark.parametrize(("birth", "last_day"), [
    ("1951-12-10", "2026-12-09"),
    ("1952-01-01", "2026-12-31"),   # the 75th birthday on Jan 1: the last day is New Year's Eve
    ("1952-03-01", "2027-02-28"),   # month end before a common-year March
    ("1953-03-01", "2028-02-29"),   # … and before a leap-year March
    ("1952-02-29", "2027-02-28"),   # Feb 29 birth, common year: turns 75 on Mar 1, last day Feb 28
    ("1956-02-29", "2031-02-28"),
    ("1953-02-28", "2028-02-27"),
    ("1948-02-29", "2023-02-28"),
    ("1949-02-28", "2024-02-27"),
    ("1949-03-01", "2024-02-29"),   # leap year: the day before Mar 1 is Feb 29
    ("1951-12-31", "2026-12-30"),
])
def test_at_75_eligibility_ends_the_day_before_the_birthday(birth, last_day):
    end = rules.eligibility_end(birth_date=D(birth))
    assert end == rules.EligibilityEnd(last_day=D(last_day), cause=End.LATE_ELDERLY)
    assert end.first_day_without == rules.turns_75_on(D(birth))


@pytest.mark.parametrize(("vc_ends", "eligible_until", "last_day", "cause"), [
    (None, None, "2031-06-14", End.LATE_ELDERLY),
    ("2027-03-31", None, "2027-03-31", End.VOLUNTARY_CONTINUATION),   # 任意継続: its end is inclusive
    ("2028-02-29", None, "2028-02-29", End.VOLUNTARY_CONTINUATION),
    (None, "2027-04-01", "2027-03-31", End.LOSS),                     # 資格喪失日 is the first day without
    (None, "2028-03-01", "2028-02-29", End.LOSS),                     # … month end of a leap February
    (None, "2027-03-01", "2027-02-28", End.LOSS),
    ("2027-03-31", "2027-04-01", "2027-03-31", End.VOLUNTARY_CONTINUATION),  # the same last day: 任意継続 says more
    ("2027-03-31", "2027-03-15", "2027-03-14", End.LOSS),             # left earlier (e.g. joined another insurer)
    ("2032-01-31", None, "2031-06-14", End.LATE_ELDERLY),             # 75 comes first
    (None, "2031-06-15", "2031-06-14", End.LATE_ELDERLY),             # the roster's 資格喪失日 on the 75th birthday
    ("2031-06-14", None, "2031-06-14", End.LATE_ELDERLY),             # 任意継続 to the same day: 後期高齢者医療 next
])
def test_the_end_of_eligibility_is_the_earliest_known_end(vc_ends, eligible_until, last_day, cause):
    end = rules.eligibility_end(birth_date=D("1956-06-15"),
                                voluntary_continuation_ends_on=D(vc_ends) if vc_ends else None,
                                eligible_until=D(eligible_until) if eligible_until else None)
    assert (end.last_day, end.cause) == (D(last_day), cause)


@pytest.mark.parametrize(("today", "told"), [
    ("2021-06-14", False),  # a certificate issued today would run to 2026-06-13: 75 does not cap it
    ("2026-06-14", False),  # to 2031-06-13, by its own 5 years
    ("2026-06-15", True),   # from here a new certificate would end on the day before the 75th birthday
    ("2031-06-14", True),   # the last day
    ("2031-06-15", True),   # and after it: the member is told eligibility has ended, and why
])
def test_the_end_is_told_once_it_caps_a_new_certificate(today, told):
    end = rules.eligibility_end(birth_date=D("1956-06-15"))
    assert rules.end_worth_telling(end, today=D(today)) is told
    issued_today = rules.certificate_valid_until(issued_on=D(today), birth_date=D("1956-06-15"))
    assert told == (issued_today == end.last_day or D(today) > end.last_day)


def test_a_feb_29_issue_day_tells_a_feb_29_birth_the_end_exactly_five_years_ahead():
    end = rules.eligibility_end(birth_date=D("1952-02-29"))  # last day 2027-02-28
    assert not rules.end_worth_telling(end, today=D("2022-02-28"))   # a certificate to 2027-02-27
    assert rules.end_worth_telling(end, today=D("2022-03-01"))       # one to 2027-02-28, the last day
