"""The Celery app. Workers: ``celery -A kenpo_portal worker -Q default,pdf,imports``;
exactly one beat: ``celery -A kenpo_portal beat``.

Celery is an interface, like a view: tasks take primary keys, call a service and
retry. They are enqueued after commit (``transaction.on_commit`` or
``task.delay_on_commit``). Settings are read from Django's, prefixed ``CELERY_``.
"""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init, before_task_publish

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenpo_portal.settings")

app = Celery("kenpo_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The periodic schedule, declared once, here. Times are Asia/Tokyo (CELERY_TIMEZONE).
app.conf.beat_schedule = {
    "reminders-daily-scan": {
        "task": "reminders.tasks.daily_scan",
        "schedule": crontab(hour=9, minute=0),
    },
    "reminders-send-pending": {
        # Picks up any reminder row left unsent (worker killed, broker restarted).
        "task": "reminders.tasks.send_pending",
        "schedule": crontab(minute="*/15"),
    },
    "staff-dashboard-refresh": {
        # Keeps the staff dashboard's summary (one query over the whole society)
        # under a minute old, so no page waits for it (staff.dashboard).
        "task": "staff.tasks.refresh_dashboard",
        "schedule": 55.0,
    },
    "sessions-clear-expired": {
        # Housekeeping: expired sessions leave the database (Django's clearsessions).
        "task": "kenpo_portal.clear_sessions",
        "schedule": crontab(hour=4, minute=0),
    },
    "certificates-void-ended-eligibility": {
        # A 資格確認書 is void once eligibility ends (R8).
        "task": "certificates.tasks.void_ended_eligibility",
        "schedule": crontab(hour=2, minute=30),
    },
    "notices-announce-changed": {
        # R10: a new お知らせ after set-based changes (imports) that saved no single person.
        "task": "notices.tasks.announce_changed",
        "schedule": crontab(hour=3, minute=30),
    },
    "certificates-daily-print-files": {
        # Certificates issued one at a time (approved requests, single issues) go into the
        # day's print file per delivery route, so nobody downloads them one by one.
        "task": "certificates.tasks.make_daily_print_files",
        "schedule": crontab(hour=16, minute=0),
    },
    "certificates-remind-unconfirmed-packets": {
        # R12 (policy): a 事業所 whose packet still has unconfirmed items after
        # KENPO_PACKET_REMINDER_DAYS gets a reminder e-mail (counts and a link only).
        "task": "certificates.tasks.remind_unconfirmed_packets",
        "schedule": crontab(hour=10, minute=0),
    },
    "imports-expire-runs": {
        # Uploads never confirmed are deleted after KENPO_IMPORT_RUN_EXPIRY_DAYS; so are old export files.
        "task": "imports.tasks.expire_runs",
        "schedule": crontab(hour=3, minute=15),
    },
    "exports-delete-old-files": {
        "task": "exports.tasks.delete_old_files",
        "schedule": crontab(hour=3, minute=20),
    },
    "imports-resume-stalled": {
        # Re-queues checks and writes whose worker died; a dead write kept nothing.
        "task": "imports.tasks.resume_stalled",
        "schedule": crontab(minute="*/5"),
    },
    "imports-clean-up-confirmed": {
        # A written run's upload and staged rows, when its worker died before the clean-up.
        "task": "imports.tasks.clean_up_confirmed_runs",
        "schedule": crontab(minute="*/5"),
    },
    "files-sweep-unreferenced": {
        # Print PDFs, exports and uploads no row names (a process killed mid-write), after an hour.
        "task": "kenpo_portal.sweep_unreferenced_files",
        "schedule": crontab(minute=40),
    },
    "certificates-monthly-proposal": {
        # The month's routine: on the 1st, who is new on the ex-officio list since the last batch.
        "task": "certificates.tasks.propose_monthly_run",
        "schedule": crontab(day_of_month=1, hour=6, minute=0),
    },
    "certificates-resume-batches": {
        # Re-queues chunks of batches whose worker died; issuing is idempotent.
        "task": "certificates.tasks.resume_stalled_batches",
        "schedule": crontab(minute="*/10"),
    },
}


# The heartbeat (/healthz, kenpo_portal/health.py): beat sends one to every queue each
# minute and notes when; the worker that takes it notes when it answered. It expires
# unanswered, so a queue without a worker does not pile them up.
WORKER_QUEUES = ("default", "pdf", "imports")  # one worker service per queue (docker-compose.yml)
for _queue in WORKER_QUEUES:
    app.conf.beat_schedule[f"health-heartbeat-{_queue}"] = {
        "task": "kenpo_portal.heartbeat",
        "schedule": 60.0,
        "args": (_queue,),
        "options": {"queue": _queue, "expires": 120},
    }


@app.task(name="kenpo_portal.clear_sessions")
def clear_sessions() -> None:
    from django.core.management import call_command

    call_command("clearsessions")


@app.task(name="kenpo_portal.heartbeat", ignore_result=True, acks_late=False)
def heartbeat(queue: str) -> None:
    from .health import note_heartbeat

    note_heartbeat(f"worker:{queue}")


def send_heartbeats() -> None:
    """What beat does each minute, also at its start (so /healthz is green within seconds)."""
    for entry in app.conf.beat_schedule.values():
        if entry["task"] == "kenpo_portal.heartbeat":
            app.send_task(entry["task"], args=entry["args"], **entry["options"])


@beat_init.connect
def _heartbeat_at_start(**_kwargs) -> None:
    send_heartbeats()


@before_task_publish.connect
def _beat_sent_a_heartbeat(sender: str | None = None, **_kwargs) -> None:
    # Runs wherever a task is sent; only beat sends the heartbeat.
    if sender == "kenpo_portal.heartbeat":
        from .health import note_heartbeat

        note_heartbeat("beat")


@app.task(name="kenpo_portal.ping")
def ping(key: str | None = None) -> str:
    """Proves a worker is consuming: with ``key``, it leaves "pong" in the cache."""
    if key:
        from django.core.cache import cache

        cache.set(key, "pong", 300)
    return "pong"


@app.task(name="kenpo_portal.sweep_unreferenced_files")
def sweep_unreferenced_files() -> dict[str, list[str]]:
    """Hourly: delete the files under print/, exports/ and imports/ that no row names and
    that are older than an hour (core.files.sweep); returns, and logs, what it deleted."""
    from certificates.models import PrintFile
    from core.files import sweep
    from exports.models import ExportJob
    from imports.models import ImportRun

    referenced = {"print": PrintFile.objects.exclude(pdf="").values_list("pdf", flat=True),
                  "exports": ExportJob.objects.exclude(file="").values_list("file", flat=True),
                  "imports": ImportRun.objects.exclude(file="").values_list("file", flat=True)}
    return {folder: sweep(folder=folder, referenced=names.iterator()) for folder, names in referenced.items()}
