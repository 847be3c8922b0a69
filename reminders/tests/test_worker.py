"""Real Celery workers on Redis, a real SMTP server: faults lose nothing and double nothing.

Time passing (the claim timeout, the re-enqueue delay) is simulated by moving the
rows' timestamps back, since the worker processes read their own settings — except
where a worker is frozen: its own clock must really pass the (shortened) claim timeout.
"Nothing was sent" is proved by ``drained()``: a task queued behind everything the
worker had to do has run, and only then is the sink counted.
"""

import os
import signal
import subprocess
import time
import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from kenpo_portal.celery import app as celery_app
from reminders import scanning, sending, services
from reminders.models import Reminder
from reminders.tasks import daily_scan, send_batch, send_pending
from tests.factories import HouseholdFactory, PersonFactory, verified_member
from tests.workers import signal_tree, worker_tree

from .helpers import person_expiring

pytestmark = [pytest.mark.services, pytest.mark.slow]

EXPIRY = date(2026, 11, 14)
RENEWAL_DAY = date(2026, 8, 15)


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

    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None

    def start(queues="default", **env):
        return celery_worker_process(queues=queues, extra_env={
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}", **{k: str(v) for k, v in env.items()}})
    return start


@pytest.fixture
def drained(celery_broker):
    """``drained(queue)``: every task queued on ``queue`` before the call — and every task
    those queued — has finished (one live worker on that queue, one process)."""
    import redis

    client = redis.Redis.from_url(celery_broker)

    def wait(queue="default", timeout=60.0):
        for _ in range(2):  # the second ping queues behind what the first round's tasks queued
            key = f"drained-{uuid.uuid4().hex}"
            celery_app.send_task("kenpo_portal.ping", kwargs={"key": key}, queue=queue)
            assert wait_until(lambda key=key: client.exists(f"kenpo:1:{key}"), timeout), "the worker is stuck"
    return wait


def wait_until(condition, timeout=40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def all_sent(n=3):
    return Reminder.objects.filter(status="sent").count() == n


def nothing_left():
    return not Reminder.objects.filter(status__in=["pending", "sending"]).exists()


def time_passes(*fields_to_move):
    """Move these timestamps back past the claim timeout and the re-enqueue delay."""
    back = max(sending.SENDING_TIMEOUT, sending.REENQUEUE_AFTER) + timedelta(minutes=1)
    for name in fields_to_move:
        Reminder.objects.filter(**{f"{name}__isnull": False}).update(**{name: timezone.now() - back})


def kill_worker_tree(proc: subprocess.Popen) -> None:
    for pid in worker_tree(proc)[1:]:
        os.kill(pid, signal.SIGKILL)
    proc.kill()
    proc.wait(timeout=10)


def no_row_sent_without_a_recipient():
    return not Reminder.objects.filter(status="sent", delivered_to="").exists()


def test_the_beat_tasks_send_each_reminder_once_even_when_run_twice(family, worker, smtp, drained):
    worker()
    daily_scan.delay("2026-08-15")
    daily_scan.delay("2026-08-15")  # two beats by mistake
    assert wait_until(all_sent)
    send_pending.delay()
    send_batch.delay([family.pk])
    send_batch.delay([family.pk])  # a task delivered twice
    drained()
    assert sorted(m["To"] for m in smtp.messages) == ["hanako@example.jp", "ichiro@example.jp"]
    assert Reminder.objects.count() == 3


def test_a_worker_killed_between_claim_and_send_loses_nothing_and_doubles_nothing(family, worker, smtp, drained):
    scanning.scan(day=date(2026, 8, 15))
    smtp.sink.mail_delay = 60  # the worker hangs in SMTP before any message is handed over
    proc = worker()
    send_pending.delay()
    assert smtp.sink.mail_started.wait(40)
    kill_worker_tree(proc)
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sending"}
    smtp.sink.mail_delay = 0
    worker()
    send_pending.delay()  # the claim is fresh: nobody touches it yet
    drained()
    assert smtp.messages == []
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sending"}
    time_passes("claimed_at", "enqueued_at")
    send_pending.delay()
    assert wait_until(all_sent)
    drained()
    assert sorted(m["To"] for m in smtp.messages) == ["hanako@example.jp", "ichiro@example.jp"]


def test_a_message_lost_by_the_broker_is_sent_by_the_sweeper(family, worker, smtp, drained):
    scanning.scan(day=date(2026, 8, 15))
    sending.households_to_enqueue()  # enqueued… but the broker lost the message
    worker()
    send_pending.delay()
    drained()
    assert smtp.messages == [] and Reminder.objects.filter(status="pending").count() == 3
    time_passes("enqueued_at")
    send_pending.delay()
    assert wait_until(all_sent)
    drained()
    assert len(smtp.messages) == 2


def test_smtp_refusing_then_recovering_sends_once(family, worker, smtp):
    scanning.scan(day=date(2026, 8, 15))
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


# --- Issue 15: the three ways exactly-once broke under faults ---------------------------


def test_rows_no_login_may_see_end_skipped_never_sent_and_keep_their_notice(transactional_db, worker, smtp, drained):
    # Only an adult dependent has a login; the insured person and the spouse are due.
    lone = HouseholdFactory()
    person_expiring(EXPIRY, household=lone, branch_number="00", given_name="花子")
    son = PersonFactory(household=lone, branch_number="02", relationship="child", given_name="一郎")
    verified_member(son, "ichiro@example.jp")  # nothing due for him
    # Another household where the dependent with a login is due as well.
    both = HouseholdFactory()
    person_expiring(EXPIRY, household=both, branch_number="00", given_name="正")
    daughter = person_expiring(EXPIRY, household=both, branch_number="02", relationship="child", given_name="葵")
    verified_member(daughter, "aoi@example.jp")
    scanning.scan(day=RENEWAL_DAY)
    worker()
    send_pending.delay()
    assert wait_until(nothing_left)
    drained()
    assert [m["To"] for m in smtp.messages] == ["aoi@example.jp"]
    assert Reminder.objects.get(person=daughter).status == "sent"
    skipped = Reminder.objects.exclude(person=daughter)
    assert set(skipped.values_list("status", flat=True)) == {"skipped"}
    assert all("見られるログインがありません" in row.last_error for row in skipped)
    assert no_row_sent_without_a_recipient()
    assert Reminder.objects.filter(dismissed_at__isnull=True).count() == 3  # the notices stay


def test_a_frozen_worker_sends_nothing_after_its_claim_was_taken_over(transactional_db, worker, smtp, drained):
    emails = [f"member{n}@example.jp" for n in range(12)]
    for n, address in enumerate(emails):
        verified_member(person_expiring(EXPIRY, household=HouseholdFactory(), given_name=f"{n}"), address)
    scanning.scan(day=RENEWAL_DAY)
    smtp.sink.mail_delay = 0.5
    # A claim older than 4 s is taken over (the lease is re-checked after 1 s).
    first = worker(queues="default,first-only", KENPO_REMINDER_SENDING_TIMEOUT=4)
    send_pending.delay()  # one batch: all 12 households
    assert wait_until(lambda: len(smtp.messages) >= 3)
    smtp.sink.mail_started.clear()
    assert smtp.sink.mail_started.wait(10)  # the worker waits for the reply to MAIL…
    signal_tree(first, signal.SIGSTOP)  # …and is frozen there (not a mock: SIGSTOP)
    smtp.sink.mail_delay = 0
    sent_before = len(smtp.messages)
    assert 3 <= sent_before < 12
    # Really past the timeout on every clock: the frozen worker's own too.
    assert wait_until(lambda: Reminder.objects.filter(
        status="sending", claimed_at__lt=timezone.now() - timedelta(seconds=4.5)).exists(), timeout=20)
    time_passes("enqueued_at")
    worker(KENPO_REMINDER_SENDING_TIMEOUT=4)  # the second worker takes the rows over and sends them
    send_pending.delay()
    assert wait_until(nothing_left)
    assert len(smtp.messages) == 12
    signal_tree(first, signal.SIGCONT)
    drained("first-only")  # the thawed worker has finished its batch
    assert sorted(m["To"] for m in smtp.messages) == sorted(emails)  # no second copy
    assert Reminder.objects.filter(status="sent").count() == 12
    assert no_row_sent_without_a_recipient()
    assert first.poll() is None  # it stopped its batch, it did not die


def test_a_timeout_after_the_final_dot_is_never_resent_automatically(family, worker, smtp, drained):
    smtp.sink.data_delay = 3  # keeps each message, answers after the sender gave up
    scanning.scan(day=RENEWAL_DAY)
    worker(EMAIL_TIMEOUT=1)
    send_pending.delay()
    assert wait_until(lambda: set(Reminder.objects.values_list("status", flat=True)) == {"uncertain"})
    assert len(smtp.messages) == 2
    assert "自動では再送しません" in Reminder.objects.first().last_error
    smtp.sink.data_delay = 0
    # Much later: the sweeper and a stray task find nothing to send.
    Reminder.objects.update(next_attempt_at=timezone.now())
    time_passes("enqueued_at", "claimed_at")
    send_pending.delay()
    send_batch.delay([family.pk])
    drained()
    assert len(smtp.messages) == 2
    # Staff read the relay's log, found them undelivered, and re-send: the same Message-IDs.
    first_ids = sorted(m["Message-ID"] for m in smtp.messages)
    services.retry_failed(reminders=Reminder.objects.all())
    assert wait_until(lambda: all_sent(3))
    drained()
    assert len(smtp.messages) == 4
    assert sorted(m["Message-ID"] for m in smtp.messages[2:]) == first_ids
    assert no_row_sent_without_a_recipient()



# --- Issue 27: a lost database connection, a hung broker ---------------------------------


def _terminate_other_connections(keep_pid: int) -> int:
    """pg_terminate_backend on every other connection to the test database (the worker's),
    as a failover, a PgBouncer restart or an administrator's kill does."""
    import psycopg2
    from django.db import connection

    db = connection.settings_dict
    with psycopg2.connect(dbname="postgres", user=db["USER"] or "postgres", host=db["HOST"] or "127.0.0.1",
                          port=db["PORT"] or 5432) as killer, killer.cursor() as cursor:
        cursor.execute("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s "
                       "AND pid NOT IN (pg_backend_pid(), %s)", [db["NAME"], keep_pid])
        terminated = cursor.fetchone()[0]
    killer.close()
    return terminated


def _one_household_each_due_and_my_pid(emails: list[str]) -> int:
    """A household per address, each due on RENEWAL_DAY and scanned; this test's own backend pid."""
    from django.db import connection

    for n, address in enumerate(emails):
        verified_member(person_expiring(EXPIRY, household=HouseholdFactory(), given_name=f"{n}"), address)
    scanning.scan(day=RENEWAL_DAY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_connection_terminated_after_the_relay_accepted_doubles_nothing(transactional_db, worker, smtp, drained):
    emails = [f"member{n}@example.jp" for n in range(12)]
    mine = _one_household_each_due_and_my_pid(emails)
    terminated = []
    # Every message: the relay keeps it, then the worker's connection dies before the "250";
    # the worker's next statement is the mark of that message.
    smtp.sink.after_data = lambda: terminated.append(_terminate_other_connections(mine))
    worker()
    send_pending.delay()
    assert wait_until(nothing_left, timeout=60)
    smtp.sink.after_data = None
    assert len(terminated) == 12 and all(terminated)  # 12 connections terminated mid-send
    # Much later: the sweeper and a stray task find nothing to send again.
    time_passes("enqueued_at", "claimed_at")
    send_pending.delay()
    drained()
    assert sorted(m["To"] for m in smtp.messages) == sorted(emails)  # each once
    assert Reminder.objects.filter(status="sent").count() == 12
    assert no_row_sent_without_a_recipient()


def test_a_mark_the_database_never_takes_leaves_the_rows_uncertain_not_sending(transactional_db, worker, smtp,
                                                                               drained):
    emails = [f"member{n}@example.jp" for n in range(3)]
    mine = _one_household_each_due_and_my_pid(emails)
    done = []

    def database_goes_away():
        if not done:
            done.append(True)
            _allow_connections(False)  # the worker's reconnects are refused…
            _terminate_other_connections(mine)  # …and its connection dies before the "250"

    smtp.sink.after_data = database_goes_away
    try:
        worker(KENPO_REMINDER_MARK_RETRY_SECONDS=2)
        send_pending.delay()
        assert wait_until(lambda: done and len(smtp.messages) == 1, timeout=30)
        time.sleep(4)  # past the worker's retries of the mark
    finally:
        _allow_connections(True)
    smtp.sink.after_data = None
    # Back: the broker held the mark; the accepted message's row becomes uncertain.
    assert wait_until(lambda: Reminder.objects.filter(status="uncertain").count() == 1, timeout=90)
    row = Reminder.objects.get(status="uncertain")
    assert "記録できませんでした" in row.last_error
    time_passes("enqueued_at", "claimed_at")
    send_pending.delay()
    assert wait_until(nothing_left, timeout=60)
    drained()
    assert sorted(m["To"] for m in smtp.messages) == sorted(emails)  # the uncertain one never again


def _allow_connections(allow: bool) -> None:
    import psycopg2
    from django.db import connection

    db = connection.settings_dict
    admin = psycopg2.connect(dbname="postgres", user=db["USER"] or "postgres", host=db["HOST"] or "127.0.0.1",
                             port=db["PORT"] or 5432)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{db["NAME"]}" ALLOW_CONNECTIONS {str(allow).lower()}')
    admin.close()
