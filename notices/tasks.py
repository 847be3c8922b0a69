"""Set-based changes (roster imports, a society's new address) save no single person:
a daily pass announces what changed since. A thin interface over ``services``.

At 300,000+ persons one pass outlived Celery's 600 s limit and stopped (issue 20). The
pass is a chain of short tasks: each takes persons by id after ``after`` for at most
``KENPO_NOTICES_SLICE_SECONDS`` (in chunks of ``CHUNK``), then queues the next from where
it stopped. A task killed or timed out is delivered again with the same ``after``;
announcing is idempotent (a person whose printed items did not change is skipped), so a
slice done twice sends nothing twice.
"""

import time

from celery import shared_task
from django.conf import settings

from eligibility.models import Person
from eligibility.selectors import eligible_on, today

from . import services

CHUNK = 2000


def announce_slice(*, day, after: int = 0, budget_seconds: float | None = None) -> tuple[int, int | None]:
    """Announce to the eligible persons with an id above ``after``, chunk by chunk, until
    the time budget is spent: (e-mails sent, the last id done — None when all are done)."""
    budget = settings.KENPO_NOTICES_SLICE_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    sent = 0
    while True:
        chunk = list(Person.objects.filter(eligible_on(day), pk__gt=after).order_by("pk")
                     .values_list("pk", flat=True)[:CHUNK])
        if not chunk:
            return sent, None
        sent += services.announce(person_ids=chunk, today=day)
        after = chunk[-1]
        if len(chunk) < CHUNK:
            return sent, None
        if time.monotonic() >= deadline:
            return sent, after


@shared_task(name="notices.tasks.announce_changed")
def announce_changed(day: str | None = None, after: int = 0) -> int:
    from datetime import date

    on = date.fromisoformat(day) if day else today()
    sent, stopped_at = announce_slice(day=on, after=after)
    if stopped_at is not None:
        announce_changed.delay(on.isoformat(), stopped_at)  # the rest, as a task of its own
    return sent
