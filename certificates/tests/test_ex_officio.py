"""R6 for one person (certificates.ex_officio.basis_for): each basis, in R6's order."""

from datetime import date

import pytest

from certificates import ex_officio
from certificates.ex_officio import PersonFacts, basis_for
from certificates.models import Basis
from eligibility.rules import Status

TODAY = date(2027, 1, 10)
OLD = PersonFacts(eligible_from=date(2020, 4, 1))
NEW = PersonFacts(eligible_from=date(2025, 4, 1))


@pytest.mark.parametrize(("person", "status", "expected"), [
    (OLD, Status.NO_CARD, Basis.CUTOFF),
    (OLD, Status.NOT_REGISTERED, Basis.CUTOFF),
    (NEW, Status.NO_CARD, None),
    (PersonFacts(eligible_from=date(2025, 4, 1), certificate_wanted=True), Status.NO_CARD, Basis.ENROLMENT_FORM),
    (NEW, Status.LAPSED, Basis.LAPSED),
    (OLD, Status.LAPSED, Basis.LAPSED),
    (PersonFacts(eligible_from=date(2025, 4, 1), my_number_registered=False), Status.NO_CARD,
     Basis.NO_MY_NUMBER),
    (OLD, Status.ACTIVE, None),
    (OLD, Status.RENEW_NOW, None),
    (OLD, None, None),
])
def test_each_basis_in_r6_order(person, status, expected):
    assert basis_for(person, status, None, TODAY, expires_on=date(2026, 11, 14)) == expected


def test_grace_is_listed_from_the_first_of_the_second_month_after_expiry():
    expiry = date(2026, 11, 14)
    assert basis_for(NEW, Status.GRACE, None, date(2026, 12, 31), expires_on=expiry) is None
    assert basis_for(NEW, Status.GRACE, None, date(2027, 1, 1), expires_on=expiry) == Basis.LAPSED
    assert ex_officio.listed_from(status=Status.GRACE, expires_on=expiry) == date(2027, 1, 1)
    assert basis_for(NEW, Status.GRACE, None, date(2027, 1, 1), expires_on=expiry, lapsed_policy=False) is None


def test_a_valid_certificate_is_renewed_only_within_two_months_of_its_end():
    assert basis_for(OLD, Status.NO_CARD, date(2027, 6, 30), TODAY) is None
    assert basis_for(OLD, Status.NO_CARD, date(2027, 3, 10), TODAY) == Basis.RENEWAL
    assert basis_for(OLD, Status.ACTIVE, date(2027, 3, 10), TODAY) is None  # a マイナ保険証 again
    helped = PersonFacts(eligible_from=date(2020, 4, 1), needed_helper=True)
    assert basis_for(helped, Status.ACTIVE, date(2027, 3, 10), TODAY) == Basis.RENEWAL
