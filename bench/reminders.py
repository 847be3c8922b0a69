"""Benchmark of the reminders: the daily scan, the first-ever run and sending 10,000 e-mails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench \\
    REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/reminders.py [--emails 10000] [--workers 2] [--skip-send] [--kills 20]

Needs a database filled by ``python manage.py seed_demo --persons 1000000`` (the
lead's generator spreads expiries like a real society). It DELETES every reminder
row of that database and creates bench logins (``bench-rem-*``): never point it at
real data. Loopback only: the SMTP sink runs in this process on 127.0.0.1.

Printed next to each figure: the floor, one plain SQL ``COUNT(*)`` over the same
due-date condition, in this process; and for sending, one smtplib connection in this
process pushing the same number of copies of one rendered reminder to the same sink (an
aiosmtpd process of its own, which the workers use too), measured right before and right
after the workers (the ratio uses their mean). The old floor, with the smtplib loop inside
the sink's own process, is printed too.
"""

import argparse
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenpo_portal.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "0")

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
logging.getLogger("mail.log").setLevel(logging.WARNING)
logging.getLogger("reminders").setLevel(logging.WARNING)

from aiosmtpd.controller import Controller  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402

from eligibility.models import CardFacts, Person  # noqa: E402
from eligibility.selectors import eligible_on, today  # noqa: E402
from reminders import scanning, sending, stages  # noqa: E402
from reminders.models import Reminder  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids) -> float:
    """CPU seconds (user + system) these processes have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def tree(pid: int) -> list[int]:
    return [pid, *map(int, subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split())]


def postgres_pids() -> list[int]:
    return [int(p) for p in subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()]


def machine_busy() -> float:
    """CPU seconds the whole machine was busy so far (every core; /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK


class CpuMeter:
    """Where the CPU went between ``start()`` and ``stop()``: per group of processes."""

    def __init__(self, **groups):
        self.groups = groups  # name -> callable returning pids

    def start(self):
        self.pids = {name: pids() for name, pids in self.groups.items()}
        self.before = {name: cpu_of(p) for name, p in self.pids.items()}
        self.busy, self.own = machine_busy(), time.process_time()

    def stop(self) -> dict[str, float]:
        # A process that ended meanwhile is no longer counted (PostgreSQL's backends come and go).
        used = {name: max(cpu_of(p) - self.before[name], 0.0) for name, p in self.pids.items()}
        used["this process"] = time.process_time() - self.own
        used["machine"] = machine_busy() - self.busy
        return used


def per_message(used: dict[str, float], n: int) -> str:
    return ", ".join(f"{name} {seconds / n * 1000:.2f}" for name, seconds in used.items())


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def due_condition(day) -> Q:
    """The scan's own condition, for the COUNT(*) floor."""
    ranges = Q()
    for stage in stages.MY_NUMBER_STAGES:
        bounds = stages.expiry_range(stage, day)
        if bounds:
            ranges |= Q(card__effective_expires_on__range=bounds)
    return eligible_on(day) & Q(card__registered=True) & ranges


def count_floor(day) -> tuple[float, int]:
    qs = Person.objects.filter(due_condition(day))
    sql, params = qs.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS due", params)
        n = cursor.fetchone()[0]
        return time.perf_counter() - started, n


def reset_reminders():
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Reminder._meta.db_table}")
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {Reminder._meta.db_table}")


class CountingSink:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 OK"


class ProcessSink:
    """An aiosmtpd sink in a process of its own (loopback), counting accepted messages."""

    def __init__(self):
        import multiprocessing

        self.port = free_port()
        self._count = multiprocessing.Value("l", 0)
        ready = multiprocessing.Event()
        self.process = multiprocessing.Process(target=_run_sink, args=(self.port, self._count, ready), daemon=True)
        self.process.start()
        ready.wait(30)

    def count(self) -> int:
        return self._count.value

    def reset(self) -> None:
        with self._count.get_lock():
            self._count.value = 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def _run_sink(port: int, count, ready) -> None:
    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with count.get_lock():
                count.value += 1
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    threading.Event().wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_floor(port: int, n: int, message: bytes, meter: "CpuMeter | None" = None) -> float:
    """One process, one connection, n copies of one rendered reminder: what SMTP to the sink costs."""
    if meter:
        meter.start()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            smtp.sendmail("a@example.jp", [f"b{i}@example.jp"], message)
    elapsed = time.perf_counter() - started
    if meter:
        print(f"  floor CPU ms per message: {per_message(meter.stop(), n)}")
    return elapsed


def sample_message() -> bytes:
    row = Reminder.objects.select_related("person__card").filter(status=Reminder.Status.PENDING).first()
    return sending.render_email(rows=[row], to="x@example.jp", message_id="<x@example.jp>").raw


def make_logins(n: int) -> list[int]:
    """A verified login for the insured person of n households with reminders; their ids."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from eligibility.models import MemberLink

    User = get_user_model()
    User.objects.filter(username__startswith="bench-rem-").delete()
    insured = list(
        Person.objects.filter(relationship=Person.Relationship.SELF,
                              household_id__in=Reminder.objects.values("household_id"))
        .exclude(member_links__isnull=False)
        .order_by("household_id").values_list("id", "household_id")[:n]
    )
    users = User.objects.bulk_create(
        [User(username=f"bench-rem-{hid}", email=f"bench-rem-{hid}@example.jp", password="!") for _, hid in insured],
        batch_size=2000,
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users], batch_size=2000)
    MemberLink.objects.bulk_create(
        [MemberLink(user=u, person_id=pid) for u, (pid, _) in zip(users, insured, strict=True)], batch_size=2000)
    return [hid for _, hid in insured]


def bench_send(emails: int, workers: int) -> None:
    households = make_logins(emails)
    # Only these households' rows are left to send (one e-mail each: the insured login).
    Reminder.objects.exclude(household_id__in=households).update(status=Reminder.Status.SENT)
    pending_rows = Reminder.objects.filter(status=Reminder.Status.PENDING).count()

    message = sample_message()
    # The old floor: the smtplib loop in the sink's own process (thread to thread).
    same_process_sink = CountingSink()
    same_port = free_port()
    same_controller = Controller(same_process_sink, hostname="127.0.0.1", port=same_port)
    same_controller.start()
    floor_same_process = smtp_floor(same_port, emails, message)
    same_controller.stop()
    # The sink the workers and the floor use: a process of its own, like a real relay, so
    # the floor's client and the workers both talk to it across processes.
    sink = ProcessSink()
    port = sink.port
    floor_meter = CpuMeter(sink=lambda: [sink.process.pid], postgres=postgres_pids)
    floor_before = smtp_floor(port, emails, message, floor_meter)
    sink.reset()

    # Workers as in production: DEBUG off, so Django's cached template loader is on.
    env = {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{port}", "CELERY_TASK_ALWAYS_EAGER": "0",
           "LOG_LEVEL": "WARNING", "DJANGO_DEBUG": "0"}
    procs = [
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "kenpo_portal", "worker", "-Q", "default",
                          "--concurrency", "1", "--pool", "prefork", "--loglevel", "WARNING", "-n", f"bench{i}@%h",
                          "--without-gossip", "--without-mingle", "--without-heartbeat"],
                         cwd=BASE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(workers)
    ]
    try:
        from kenpo_portal.celery import app

        app.control.purge()
        # Start the clock only once every worker answers (booting Django and Celery is not sending).
        ready_by = time.perf_counter() + 120
        while len(app.control.ping(timeout=0.5) or []) < workers and time.perf_counter() < ready_by:
            time.sleep(0.2)
        meter = CpuMeter(workers=lambda: [pid for p in procs for pid in tree(p.pid)],
                         sink=lambda: [sink.process.pid], postgres=postgres_pids)
        meter.start()
        started = time.perf_counter()
        enqueued = sending.enqueue_due()
        deadline = started + 900
        while sink.count() < emails and time.perf_counter() < deadline:
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        used = meter.stop()
        while Reminder.objects.filter(status__in=["pending", "sending"]).exists() and time.perf_counter() < deadline:
            time.sleep(0.2)
        all_marked = time.perf_counter() - started
        accepted = sink.count()
        # The floor again, right after: the machine's load moves, so the ratio uses both.
        floor_after = smtp_floor(port, emails, message)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        sink.stop()
    rate = accepted / elapsed
    floor_rate = emails / ((floor_before + floor_after) / 2)
    print(f"send: {enqueued:,} households ({pending_rows:,} rows) → {accepted:,} e-mails accepted by the sink "
          f"in {elapsed:.1f} s with {workers} workers ({rate:,.0f}/s); all rows marked in {all_marked:.1f} s")
    print(f"send floor: one smtplib connection, {emails:,} copies of one rendered reminder to the same sink "
          f"(another process): {emails / floor_before:,.0f}/s before, {emails / floor_after:,.0f}/s after")
    print(f"send vs floor: {rate / floor_rate:.2f}× (target ≥ 0.7×)")
    print(f"  send CPU ms per message: {per_message(used, accepted)}; "
          f"the machine's {os.cpu_count()} cores were busy {used['machine'] / elapsed / os.cpu_count():.0%}")
    print(f"  (the floor with the smtplib loop inside the sink's own process, as measured before: "
          f"{emails / floor_same_process:,.0f}/s; send vs that: {rate / (emails / floor_same_process):.2f}×)")
    print(f"rows: {dict(Reminder.objects.values_list('status').annotate(n=django.db.models.Count('id')))}")


class RecipientSink:
    def __init__(self):
        self.recipients: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


def start_workers(port: int, count: int) -> list[subprocess.Popen]:
    env = {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{port}", "CELERY_TASK_ALWAYS_EAGER": "0",
           "LOG_LEVEL": "WARNING", "DJANGO_DEBUG": "0"}
    procs = [
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "kenpo_portal", "worker", "-Q", "default",
                          "--concurrency", "1", "--pool", "prefork", "--loglevel", "WARNING", "-n", f"kill{i}@%h",
                          "--without-gossip", "--without-mingle", "--without-heartbeat"],
                         cwd=BASE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(count)
    ]
    from kenpo_portal.celery import app

    ready_by = time.perf_counter() + 120
    while len(app.control.ping(timeout=0.5) or []) < count and time.perf_counter() < ready_by:
        time.sleep(0.2)
    return procs


def kill_tree(proc: subprocess.Popen) -> None:
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    for pid in [proc.pid, *map(int, children)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


def bench_kills(kills: int) -> None:
    """SIGKILL a sending worker (its whole tree) at random moments; count the duplicate e-mails.

    Uses the bench logins of the send benchmark: their rows are sent again from scratch.
    """
    import random

    from django.utils import timezone

    from kenpo_portal.celery import app

    households = list(Reminder.objects.filter(household__in=Person.objects.filter(
        member_links__user__username__startswith="bench-rem-").values("household_id"))
        .values_list("household_id", flat=True).distinct())
    Reminder.objects.filter(household_id__in=households).update(
        status=Reminder.Status.PENDING, delivered_to="", message_id="", claim_token=None, enqueued_at=None,
        next_attempt_at=timezone.now(), attempts=0)
    expected = len(households)
    sink = RecipientSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app.control.purge()
    done = 0
    try:
        while done < kills and Reminder.objects.filter(status__in=["pending", "sending"]).exists():
            [proc] = start_workers(port, 1)
            before = len(sink.recipients)
            sending.enqueue_due()
            started_by = time.perf_counter() + 60
            while len(sink.recipients) == before and time.perf_counter() < started_by:  # sending has started
                time.sleep(0.01)
            time.sleep(random.uniform(0.05, 1.0))  # a random moment while sending
            kill_tree(proc)
            done += 1
            print(f"  kill {done}: {len(sink.recipients):,} e-mails so far", flush=True)
            app.control.purge()
            # The dead worker's claim is taken over at once (as after SENDING_TIMEOUT), and the
            # purged tasks' rows are enqueued again at once (as after REENQUEUE_AFTER).
            Reminder.objects.filter(status=Reminder.Status.SENDING).update(
                claimed_at=timezone.now() - timedelta(hours=2))
            Reminder.objects.filter(status__in=["pending", "sending"]).update(enqueued_at=None)
        [proc] = start_workers(port, 1)
        sending.enqueue_due()
        deadline = time.perf_counter() + 600
        while Reminder.objects.filter(status__in=["pending", "sending"]).exists() and time.perf_counter() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        controller.stop()
    duplicates = len(sink.recipients) - len(set(sink.recipients))
    print(f"kills: {done} SIGKILLs at random moments while sending → {duplicates} duplicate e-mails "
          f"({duplicates / max(done, 1):.0%} of kills); {len(set(sink.recipients)):,} of {expected:,} logins "
          f"got theirs; rows: {dict(Reminder.objects.filter(household_id__in=households).values_list('status').annotate(n=django.db.models.Count('id')))}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-send", action="store_true")
    parser.add_argument("--kills", type=int, default=0, help="after sending: SIGKILL a worker N times, count duplicates")
    args = parser.parse_args()

    day = today()
    persons = Person.objects.count()
    with_expiry = CardFacts.objects.filter(effective_expires_on__isnull=False).count()
    print(f"database: {connection.settings_dict['NAME']} ({connection.vendor}); {persons:,} persons, "
          f"{with_expiry:,} with a card expiry; scan day {day}")

    count_floor(day)  # warm the cache like the scans below will be
    floor, due = count_floor(day)
    print(f"floor: COUNT(*) over the due-date condition: {due:,} persons in {floor * 1000:.0f} ms")

    reset_reminders()
    first, created = timed(scanning.scan, day=day)
    print(f"first-ever run: {sum(created.values()):,} rows in {first:.2f} s ({first / floor:.1f}× floor) {created}")

    again, created = timed(scanning.scan, day=day)
    print(f"same day again: {sum(created.values()):,} rows in {again:.2f} s ({again / floor:.1f}× floor)")

    next_floor, _next_due = count_floor(day + timedelta(days=1))
    daily, created = timed(scanning.scan, day=day + timedelta(days=1))
    print(f"daily scan (next day): {sum(created.values()):,} new rows in {daily:.2f} s "
          f"({daily / next_floor:.1f}× its floor of {next_floor * 1000:.0f} ms)")
    if not args.skip_send:
        bench_send(args.emails, args.workers)
        if args.kills:
            bench_kills(args.kills)


if __name__ == "__main__":
    main()
