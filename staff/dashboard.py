"""The staff dashboard's summary: computed by a worker, cached, numbers only.

At a million persons the society-wide queries (``staff.selectors``) take a second
or more on a busy machine, so pages never wait for them: they show the cached
summary, and one older than a minute is recomputed by a Celery task
(``staff.tasks.refresh_dashboard``) for the next view.

The cache holds numbers only, never words: a summary computed for a reader of one
language serves every language (``staff.figures`` words it per request).
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from eligibility.selectors import today

from . import selectors

logger = logging.getLogger(__name__)
# v3: with the certificates waiting for their print file (v2 had no such queue; v1 cached
# labelled figures in the language of the first reader).
CACHE_KEY = "staff:dashboard:counts:v3"
REFRESHING_KEY = "staff:dashboard:refreshing"
FRESH_SECONDS = 60  # a summary older than this is recomputed in the background
KEEP_SECONDS = 6 * 60 * 60  # ...and shown meanwhile, rather than making the page wait
REFRESH_LOCK_SECONDS = 120


@dataclass
class Summary:
    """The dashboard's numbers on ``day``: R5 statuses, expiries per month
    ``(month, ecert, card)``, the work queues and the ex-officio list per R6 basis."""

    day: date
    computed_at: datetime
    statuses: dict[str, int]
    months: list[tuple[date, int, int]]
    work: dict[str, int]
    # None: not counted yet (the first view ever leaves R6, the slowest count, to a worker).
    ex_officio: dict[str, int] | None = None


def compute_summary(*, day: date, with_ex_officio: bool = True) -> Summary:
    statuses, months = selectors.society_counts(day=day)
    return Summary(
        day=day,
        computed_at=timezone.now(),
        statuses=statuses,
        months=months,
        work=selectors.work_counts(),
        ex_officio=selectors.ex_officio_counts(today=day) if with_ex_officio else None,
    )


def refresh_summary(*, day: date | None = None) -> Summary:
    """Compute the summary now and keep it for the pages (the background task calls this)."""
    summary = compute_summary(day=day or today())
    cache.set(CACHE_KEY, summary, KEEP_SECONDS)
    cache.delete(REFRESHING_KEY)
    return summary


def request_refresh() -> None:
    """Have a worker recompute the summary, once however many pages ask for it."""
    if not cache.add(REFRESHING_KEY, True, REFRESH_LOCK_SECONDS):
        return
    from .tasks import refresh_dashboard

    def enqueue() -> None:
        try:
            refresh_dashboard.apply_async(retry=False)
        except Exception:  # the broker is down: the pages still show the last summary
            cache.delete(REFRESHING_KEY)
            logger.warning("could not enqueue the dashboard refresh", exc_info=True)

    transaction.on_commit(enqueue)


def dashboard_summary() -> Summary | None:
    """The latest summary without waiting for the database (stale-while-revalidate).

    A page shows the last summary, and one older than a minute (or of another day, or
    without the ex-officio numbers) is recomputed by a worker. With no summary at all
    (the first view ever, an emptied cache) there is nothing to show yet: None, and a
    worker computes it — the page says so rather than make a clerk wait seconds (at a
    million persons) or show a number that is not counted.
    """
    summary = cache.get(CACHE_KEY)
    if summary is None:
        request_refresh()
        return None
    age = (timezone.now() - summary.computed_at).total_seconds()
    if age > FRESH_SECONDS or summary.day != today() or summary.ex_officio is None:
        request_refresh()
    return summary
