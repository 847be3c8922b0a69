"""A crafted population for R6 and helpers shared by the certificate tests."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.factories import CardFactsFactory, EmployerFactory, HouseholdFactory, PersonFactory

TODAY = date(2026, 11, 25)


def person(*, card=None, **kwargs):
    """A person with card facts: ``card`` is None (no card facts row), or a dict for CardFactsFactory."""
    p = PersonFactory(**kwargs)
    if card is not None:
        CardFactsFactory(person=p, **card)
    return p


NO_CARD = {"has_card": False, "registered": False, "card_expires_on": None, "ecert_expires_on": None}
# R5 unknown: a card facts row nobody has filled in (a roster import makes these).
UNKNOWN = {"has_card": None, "registered": False, "card_expires_on": None, "ecert_expires_on": None,
           "ecert_source": "unknown", "registration_source": ""}
NOT_REGISTERED = {"registered": False}
ACTIVE = {"card_expires_on": date(2031, 11, 14), "ecert_expires_on": date(2030, 11, 14)}
# e-certificate expired 2026-01-10 → grace ended 2026-04-30: lapsed on TODAY.
LAPSED = {"card_expires_on": date(2031, 1, 10), "ecert_expires_on": date(2026, 1, 10)}
# e-certificate expired 2026-10-10 → grace until 2027-01-31.
GRACE = {"card_expires_on": date(2031, 10, 10), "ecert_expires_on": date(2026, 10, 10)}


@pytest.fixture(autouse=True)
def _tasks_run_in_process(eager_tasks):
    """Tasks run in-process unless a test asks for the real broker (``celery_broker``)."""


@pytest.fixture
def today():
    return TODAY


@pytest.fixture
def employer(db):
    return EmployerFactory(code="AOZORA", name="青空商事株式会社")


@pytest.fixture
def insured_and_dependent_72(db, employer, time_machine):
    """An insured person (被保険者) and a dependent (被扶養者) aged 72 on TODAY, which is
    today for the test (the pages that list them read the clock)."""
    time_machine.move_to(datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=ZoneInfo("Asia/Tokyo")))
    household = HouseholdFactory(employer=employer, society=employer.society, symbol="4321", number="8765")
    insured = person(household=household, branch_number="00", family_name="高橋", given_name="健一",
                     family_name_kana="タカハシ", given_name_kana="ケンイチ", birth_date=date(1975, 5, 20),
                     eligible_from=date(2015, 4, 1), card=NO_CARD)
    dependent = person(household=household, branch_number="01", relationship="parent", family_name="高橋",
                       given_name="ハル", family_name_kana="タカハシ", given_name_kana="ハル", sex="F",
                       birth_date=date(1954, 7, 15), eligible_from=date(2020, 10, 1), card=NOT_REGISTERED)
    return insured, dependent
