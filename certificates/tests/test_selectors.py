from datetime import date

import pytest

from certificates import services
from certificates.models import Basis
from certificates.selectors import ex_officio_candidates, with_certificate_panel
from eligibility.models import Person

from .conftest import ACTIVE, GRACE, LAPSED, NO_CARD, NOT_REGISTERED, TODAY, person

pytestmark = pytest.mark.django_db
AFTER_CUTOFF = date(2025, 3, 1)


@pytest.fixture
def population():
    """One person per basis and per exclusion of R6, named after what they test."""
    return {
        "cutoff_no_card": person(given_name="基準日前", eligible_from=date(2024, 12, 1), card=NO_CARD),
        "cutoff_no_card_facts": person(given_name="カード情報なし", eligible_from=date(2010, 1, 1)),
        "cutoff_not_registered": person(given_name="未登録", card=NOT_REGISTERED),
        "enrolment_form": person(given_name="発行希望", eligible_from=AFTER_CUTOFF, certificate_wanted=True,
                                 card=NO_CARD),
        "lapsed_later": person(given_name="登録解除", eligible_from=AFTER_CUTOFF, card=LAPSED),
        # exclusions
        "after_cutoff_no_request": person(given_name="基準日後", eligible_from=date(2024, 12, 2), card=NO_CARD),
        "active": person(given_name="マイナ保険証", card=ACTIVE),
        "grace": person(given_name="猶予中", card=GRACE),
        "left": person(given_name="喪失", eligible_until=TODAY, card=NO_CARD),
        "not_yet": person(given_name="未取得", eligible_from=date(2026, 12, 1), card=NO_CARD),
        "holds_valid": person(given_name="交付済み", card=NO_CARD),
    }


def _rows():
    return {p.given_name: p.basis for p in ex_officio_candidates(today=TODAY)}


def test_it_selects_exactly_the_people_of_r6_with_their_basis(population, settings):
    services.certificate_issue(person=population["holds_valid"], basis=Basis.CUTOFF, issued_by=None, today=TODAY)
    assert _rows() == {
        "基準日前": Basis.CUTOFF,
        # "カード情報なし": R5 unknown — nobody has said, so not R6.1 (only bases 2, 4, 5).
        "未登録": Basis.CUTOFF,
        "発行希望": Basis.ENROLMENT_FORM,
        "登録解除": Basis.LAPSED,
    }


def test_it_leaves_out_lapsed_people_when_the_policy_is_off(population, settings):
    settings.KENPO_EX_OFFICIO_LAPSED = False
    assert "登録解除" not in _rows()


def test_it_selects_again_someone_whose_certificate_expired_or_was_voided(population):
    cert = services.certificate_issue(person=population["holds_valid"], basis=Basis.CUTOFF, issued_by=None,
                                      today=date(2020, 1, 1))
    assert "交付済み" in _rows()  # expired 2024-12-31
    services.certificate_transition(certificate=cert, to="void", void_reason="lost")
    assert "交付済み" in _rows()


def test_it_uses_one_query_for_the_whole_list(population, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(ex_officio_candidates(today=TODAY))


def test_the_dashboard_panel_data_costs_two_queries_for_any_household(population, django_assert_num_queries):
    for p in list(population.values())[:4]:
        services.certificate_issue(person=p, basis=Basis.CUTOFF, issued_by=None, today=TODAY)
    with django_assert_num_queries(3):
        persons = list(with_certificate_panel(Person.objects.all(), today=TODAY))
    assert sum(len(p.valid_certificates) for p in persons) == 4
