"""R6 as a pure rule: ``rules.ex_officio_basis`` on the edges RULES.md names."""

from datetime import date

import pytest

from eligibility import rules
from eligibility.rules import ExOfficioBasis as B
from eligibility.rules import Status as S

D = date.fromisoformat


def basis(**facts):
    base = {"today": D("2026-11-25"), "eligible_from": D("2020-04-01"), "last_eligible_day": D("2040-01-01"),
            "status": S.NO_CARD, "expiry": None, "certificate_wanted": False, "my_number_registered": True,
            "certificate_valid_until": None, "needs_helper": False}
    return rules.ex_officio_basis(**{**base, **facts})


@pytest.mark.parametrize(("eligible_from", "expected"), [("2024-12-01", B.CUTOFF), ("2024-12-02", None)])
def test_basis_1_is_eligibility_on_or_before_2024_12_01(eligible_from, expected):
    assert basis(eligible_from=D(eligible_from)) == expected
    assert basis(eligible_from=D(eligible_from), status=S.NOT_REGISTERED) == expected


def test_basis_2_is_the_enrolment_form_after_the_cutoff():
    assert basis(eligible_from=D("2025-03-01"), certificate_wanted=True) == B.ENROLMENT_FORM
    assert basis(eligible_from=D("2025-03-01"), certificate_wanted=True, status=S.ACTIVE) is None


@pytest.mark.parametrize(("today", "expected"), [
    ("2026-12-31", None), ("2027-01-01", B.LAPSED),  # RULES.md's example: expiry 2026-11-14
    ("2027-02-28", B.LAPSED),  # grace ends
])
def test_basis_3_lists_grace_from_the_1st_of_the_2nd_month_after_expiry(today, expected):
    assert rules.ex_officio_grace_listing_from(D("2026-11-14")) == D("2027-01-01")
    facts = {"eligible_from": D("2025-03-01"), "status": S.GRACE, "expiry": D("2026-11-14")}
    assert basis(today=D(today), **facts) == expected
    assert basis(today=D(today), **facts, lapsing_listed=False) is None
    later = expected if D(today) >= D("2027-02-01") else None  # a setting of 3 months lists from Feb 1
    assert basis(today=D(today), **facts, grace_months_after=3) == later


def test_basis_3_lists_a_lapsed_registration():
    assert basis(eligible_from=D("2025-03-01"), status=S.LAPSED, expiry=D("2026-01-10")) == B.LAPSED


def test_basis_4_is_an_unregistered_my_number_whatever_the_card():
    assert basis(eligible_from=D("2025-03-01"), status=S.ACTIVE, my_number_registered=False) == B.NO_MY_NUMBER
    assert basis(status=S.ACTIVE, my_number_registered=False, certificate_valid_until=D("2030-01-01")) is None


@pytest.mark.parametrize(("today", "until", "expected"), [
    ("2026-11-25", "2027-01-25", B.RENEWAL), ("2026-11-25", "2027-01-26", None),
    ("2026-12-31", "2027-02-28", B.RENEWAL), ("2026-12-31", "2027-03-01", None),  # the horizon clamps to Feb 28
    ("2026-11-25", "2026-11-24", B.CUTOFF),  # ended yesterday: no valid certificate, basis 1 first
])
def test_basis_5_renews_a_certificate_ending_within_2_months(today, until, expected):
    assert basis(today=D(today), certificate_valid_until=D(until)) == expected


def test_basis_5_for_a_helper_needs_no_missing_card_and_never_repeats_an_identical_certificate():
    holder = {"status": S.ACTIVE, "certificate_valid_until": D("2027-01-10")}
    assert basis(**holder) is None
    assert basis(**holder, needs_helper=True) == B.RENEWAL
    # Capped at the last eligible day (the day before 75, 資格喪失日, 任意継続's end): nothing to renew.
    assert basis(**holder, needs_helper=True, last_eligible_day=D("2027-01-10")) is None
    assert basis(**holder, needs_helper=True, last_eligible_day=D("2027-01-11")) == B.RENEWAL


@pytest.mark.parametrize(("today", "expected"), [("2027-02-28", B.CUTOFF), ("2027-03-01", None)])
def test_nobody_from_the_75th_birthday_feb_29_on_mar_1(today, expected):
    birth = D("1952-02-29")
    last_day = rules.turns_75_on(birth) - rules.DAY
    assert basis(today=D(today), last_eligible_day=last_day) == expected
