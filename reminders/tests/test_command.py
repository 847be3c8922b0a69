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


@pytest.fixture
def broker_down(settings):
    """Celery pointed at a port where nothing listens (not eager): every publish fails."""
    from conftest import reset_broker_connections
    from kenpo_portal.celery import app

    old = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = "redis://127.0.0.1:1/0", False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    reset_broker_connections(app)
    yield
    app.conf.broker_url, app.conf.task_always_eager = old
    reset_broker_connections(app)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_it_says_the_rows_are_saved_and_will_be_sent(alice, alice_person, broker_down):
    out, err = StringIO(), StringIO()
    call_command("scan_reminders", "--date", "2026-08-15", stdout=out, stderr=err)  # no traceback, exit 0
    assert "保存しました" in err.getvalue() and "The reminders are saved" in err.getvalue()
    assert "send_pending" in err.getvalue()
    row = Reminder.objects.get(person=alice_person, stage="renewal_open")
    # Left for the very next sweep, not held back as if it had been queued.
    assert (row.status, row.enqueued_at) == ("pending", None)
