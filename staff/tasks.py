"""Background work of the staff pages: recomputing the dashboard's summary."""

from celery import shared_task

from .dashboard import refresh_summary


@shared_task(name="staff.tasks.refresh_dashboard", ignore_result=True, soft_time_limit=120, time_limit=180)
def refresh_dashboard() -> None:
    """Recompute the staff dashboard's figures (one query over the whole society)."""
    refresh_summary()
