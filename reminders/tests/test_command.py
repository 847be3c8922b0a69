"""``manage.py scan_reminders``: the beat's daily scan, by hand, for a given day."""

import os
import shutil
import signal
import socket
import subprocess
import time
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


@pytest.fixture
def hung_broker(settings):
    """A Redis server of this test's own (never the shared one), frozen with SIGSTOP after
    the app has connected to it: it accepts connections and never answers, as a hung host."""
    from conftest import reset_broker_connections
    from kenpo_portal.celery import app

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    old = (app.conf.broker_url, app.conf.task_always_eager)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        app.conf.broker_url, app.conf.task_always_eager = f"redis://127.0.0.1:{port}/0", False
        settings.CELERY_TASK_ALWAYS_EAGER = False
        reset_broker_connections(app)
        app.send_task("kenpo_portal.ping", queue="nobody")  # connected and warm, as a live site's
        os.kill(server.pid, signal.SIGSTOP)
        yield
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.kill()
        server.wait(timeout=10)
        app.conf.broker_url, app.conf.task_always_eager = old
        reset_broker_connections(app)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_hung_it_gives_up_within_seconds_and_says_the_rows_are_saved(
        alice, alice_person, hung_broker, settings):
    out, err = StringIO(), StringIO()
    started = time.monotonic()
    call_command("scan_reminders", "--date", "2026-08-15", stdout=out, stderr=err)
    took = time.monotonic() - started
    # Issue 27: it blocked in send_batch.delay for over 300 s. Now: a few timeouts.
    assert took < 4 * settings.KENPO_BROKER_TIMEOUT + 5, took
    assert "保存しました" in err.getvalue()
    row = Reminder.objects.get(person=alice_person, stage="renewal_open")
    assert (row.status, row.enqueued_at) == ("pending", None)  # the next sweep sends it


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_hung_the_admin_scan_page_answers_with_the_same_warning(
        client, alice, alice_person, hung_broker, settings):
    from django.urls import reverse

    from staff.roles import MANAGER
    from staff.testing import login_with_mfa, make_staff

    login_with_mfa(client, make_staff(role=MANAGER, email="m@kenpo.example.jp"))
    started = time.monotonic()
    response = client.post(reverse("admin:reminders_reminder_scan"), {"day": "2026-08-15"}, follow=True)
    assert time.monotonic() - started < 4 * settings.KENPO_BROKER_TIMEOUT + 5
    assert response.status_code == 200
    assert "保存しました" in response.content.decode()
    assert Reminder.objects.get(person=alice_person, stage="renewal_open").enqueued_at is None
