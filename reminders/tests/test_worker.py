"""Real Celery workers on Redis, a real SMTP server: faults lose nothing and double nothing.

Time passing (the claim timeout, the re-enqueue delay) is simulated by moving the
rows' timestamps back, since the worker processes read their own settings.
"""

import os
import signal
import subprocess
import time
from datetime import date, timedelta

import pytest
from django.utils import timezone

from reminders import services
from reminders.models import Reminder
from reminders.tasks import daily_scan, send_batch, send_pending
from tests.factories import HouseholdFactory, verified_member

from .helpers import person_expiring

pytestmark = [pytest.mark.services, pytest.mark.slow]

EXPIRY = date(2026, 11, 14)


@pytest.fixture
def family(transactional_db):
    household = HouseholdFactory(symbol="8642", number="97531")
    insured = person_expiring(EXPIRY, household=household, branch_number="00", given_name="花子")
    person_expiring(EXPIRY, household=household, branch_number="01", relationship="spouse", given_name="健")
    son = person_expiring(EXPIRY, household=household, branch_number="02", relationship="child", given_name="一郎")
    verified_member(insured, "hanako@example.jp")
    verified_member(son, "ichiro@example.jp")
    return household


@pytest.fixture
def worker(celery_worker_process, smtp):
    # celery_broker closes the app's broker pool between tests, but kombu keeps the
    # closed pool registered for the same URL: start the next test with fresh ones.
    from kombu import pools

    from kenpo_portal.celery import app

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None

    def start():
        return celery_worker_process(queues="default", extra_env={"EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}"})
    return start


def wait_until(condition, timeout=40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def all_sent(n=3):
    return Reminder.objects.filter(status="sent").count() == n


def time_passes(*fields_to_move):
    """Move these timestamps back past the claim timeout and the re-enqueue delay."""
    back = max(services.SENDING_TIMEOUT, services.REENQUEUE_AFTER) + timedelta(minutes=1)
    for name in fields_to_move:
        Reminder.objects.filter(**{f"{name}__isnull": False}).update(**{name: timezone.now() - back})


def kill_worker_tree(proc: subprocess.Popen) -> None:
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)
    proc.kill()
    proc.wait(timeout=10)


def test_the_beat_tasks_send_each_reminder_once_even_when_run_twice(family, worker, smtp):
    worker()
    daily_scan.delay("2026-08-15")
    daily_scan.delay("2026-08-15")  # two beats by mistake
    assert wait_until(all_sent)
    send_pending.delay()
    send_batch.delay([family.pk])
    send_batch.delay([family.pk])  # a task delivered twice
    time.sleep(3)
    assert sorted(m["To"] for m in smtp.messages) == ["hanako@example.jp", "ichiro@example.jp"]
    assert Reminder.objects.count() == 3


def test_a_worker_killed_between_claim_and_send_loses_nothing_and_doubles_nothing(family, worker, smtp):
    services.scan(day=date(2026, 8, 15))
    smtp.sink.mail_delay = 60  # the worker hangs in SMTP before any message is handed over
    proc = worker()
    send_pending.delay()
    assert smtp.sink.mail_started.wait(40)
    kill_worker_tree(proc)
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sending"}
    smtp.sink.mail_delay = 0
    worker()
    send_pending.delay()  # the claim is fresh: nobody touches it yet
    time.sleep(3)
    assert smtp.messages == []
    time_passes("claimed_at", "enqueued_at")
    send_pending.delay()
    assert wait_until(all_sent)
    time.sleep(1)
    assert sorted(m["To"] for m in smtp.messages) == ["hanako@example.jp", "ichiro@example.jp"]


def test_a_message_lost_by_the_broker_is_sent_by_the_sweeper(family, worker, smtp):
    services.scan(day=date(2026, 8, 15))
    services.households_to_enqueue()  # enqueued… but the broker lost the message
    worker()
    send_pending.delay()
    time.sleep(3)
    assert smtp.messages == [] and Reminder.objects.filter(status="pending").count() == 3
    time_passes("enqueued_at")
    send_pending.delay()
    assert wait_until(all_sent)
    assert len(smtp.messages) == 2


def test_smtp_refusing_then_recovering_sends_once(family, worker, smtp):
    services.scan(day=date(2026, 8, 15))
    smtp.refuse()
    worker()
    send_pending.delay()
    assert wait_until(lambda: Reminder.objects.filter(status="pending", attempts=1).count() == 3)
    assert "Refused" in Reminder.objects.first().last_error
    smtp.accept()
    Reminder.objects.update(next_attempt_at=timezone.now())
    time_passes("enqueued_at")
    send_pending.delay()
    assert wait_until(all_sent)
    assert len(smtp.messages) == 2
