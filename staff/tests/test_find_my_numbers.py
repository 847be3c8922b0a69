"""manage.py find_my_numbers: where a My Number may already be stored — never what (issue 24, R9)."""

import io

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

HIDDEN = "1234\u31645678\u31649018"  # let through before issue 24: Hangul fillers


def _run(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("find_my_numbers", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue()
    return 0, out.getvalue()


def test_it_reports_where_a_stored_number_is_without_printing_it(household):
    person = PersonFactory(household=household, family_name="山田", given_name="太郎")
    type(person).objects.filter(pk=person.pk).update(given_name=f"太郎{HIDDEN}")
    status, out = _run()
    assert status == 1
    assert f"eligibility.Person.given_name\tpk={person.pk}" in out
    assert "9018" not in out and "\u3164" not in out
    entry = AuditEntry.objects.latest("at")
    assert entry.details == {"found": 1, "redacted": False} and "9018" not in entry.summary


def test_redact_masks_the_number_and_keeps_the_rest(household):
    person = PersonFactory(household=household)
    type(person).objects.filter(pk=person.pk).update(given_name=f"太郎{HIDDEN}")
    assert _run("--redact")[0] == 1
    person.refresh_from_db()
    assert person.given_name == "太郎…"
    assert _run()[0] == 0


def test_a_clean_database_exits_zero(household):
    PersonFactory(household=household, given_name="一郎")
    status, out = _run()
    assert status == 0 and "見つかりませんでした" in out
