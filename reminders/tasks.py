"""Celery interface of the reminders: thin, ids in, services do the work.

Beat (kenpo_portal/celery.py) runs ``daily_scan`` at 09:00 Asia/Tokyo and the
sweeper ``send_pending`` every 15 minutes. Every task is safe to run twice.
"""

from datetime import date

from celery import shared_task

from eligibility.selectors import today

from . import scanning, sending


@shared_task(name="reminders.tasks.daily_scan")
def daily_scan(day: str | None = None) -> dict:
    """Create today's (or ``day``'s) reminder rows, then enqueue their sending."""
    created = scanning.scan(day=date.fromisoformat(day) if day else today())
    sending.enqueue_due()
    return created


@shared_task(name="reminders.tasks.send_pending")
def send_pending() -> int:
    """The sweeper: enqueue every unsent row (new, retry due, or left by a dead worker)."""
    return sending.enqueue_due()


@shared_task(name="reminders.tasks.send_batch")
def send_batch(household_ids: list[int]) -> dict:
    """Send the claimable reminders of these households; schedule a retry on SMTP errors."""
    outcome = sending.send_households(household_ids=household_ids)
    if outcome.retry_households and outcome.retry_in is not None:
        # The sweeper would pick these up too; this only makes the first retries prompt.
        send_batch.apply_async(args=[outcome.retry_households], countdown=outcome.retry_in.total_seconds())
    return {"emails": outcome.emails, "sent": outcome.sent_rows, "failed": outcome.failed_rows,
            "retry": len(outcome.retry_households)}


@shared_task(name="reminders.tasks.record_uncertain", autoretry_for=(Exception,), max_retries=30, retry_backoff=5,
             retry_backoff_max=60)
def record_uncertain(token: str, row_ids: list[int], user_id: int, error: str) -> int:
    """An accepted e-mail whose mark the database never took: its rows become ``uncertain``
    (never re-sent) once the database is back; retried meanwhile."""
    return sending.record_uncertain(token=token, row_ids=row_ids, user_id=user_id, error=error)
