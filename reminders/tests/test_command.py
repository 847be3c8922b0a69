"""``manage.py scan_reminders``: the beat's daily scan, by hand, for a given day."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reminders.models import Reminder

pytestmark = pytest.mark.django_db


def test_it_scans_the_given_day_once_however_often_it_runs(alice, alice_person):
    call_command("scan_reminders", "--date", "2026-08-15", stdout=StringIO())
    call_command("scan_reminders", "--date", "2026-08-15", stdout=StringIO())
    assert Reminder.objects.filter(person=alice_person, stage="renewal_open").count() == 1


def test_it_refuses_a_date_it_cannot_read_in_both_languages():
    with pytest.raises(CommandError, match="YYYY-MM-DD") as refused:
        call_command("scan_reminders", "--date", "2026/08/14")
    assert "日付は" in str(refused.value)
