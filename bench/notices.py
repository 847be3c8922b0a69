"""Benchmark of the nightly お知らせ pass (issue 20): in slices, each well under Celery's limit.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench \\
        .venv/bin/python bench/notices.py [--slice-seconds 240] [--keep-records]

Needs a database filled by ``python manage.py seed_demo --persons 1000000`` (or 300000). It DELETES
every お知らせ record (NoticeRecord) of that database first (unless --keep-records): never
point it at real data. E-mails go to Django's in-memory backend.

Runs the pass twice, as the beat does on two nights: the first-ever pass records every
eligible person's printed items, the second finds nothing changed. Each slice's seconds are
printed (each must stay under CELERY_TASK_SOFT_TIME_LIMIT, 600 s). Beside them, the floor:
the same persons loaded in the same chunks with the same related rows, nothing computed.
"""

import argparse
import os
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenpo_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from eligibility.models import Person  # noqa: E402
from eligibility.selectors import eligible_on, today  # noqa: E402
from notices import tasks  # noqa: E402
from notices.models import NoticeRecord  # noqa: E402


def one_pass(day, budget: float) -> tuple[float, list[float], int]:
    """The chain of tasks the beat starts, run in turn: each slice resumes from the last id
    the one before it returned (as ``announce_changed`` queues it)."""
    started = time.perf_counter()
    slices, after, sent = [], 0, 0
    while True:
        begun = time.perf_counter()
        done, stopped_at = tasks.announce_slice(day=day, after=after, budget_seconds=budget)
        slices.append(time.perf_counter() - begun)
        sent += done
        print(f"   slice {len(slices)}: ids > {after:,} → {'the end' if stopped_at is None else f'{stopped_at:,}'}"
              f", {slices[-1]:.1f} s, {done} e-mails", flush=True)
        if stopped_at is None:
            return time.perf_counter() - started, slices, sent
        after = stopped_at


def floor(day) -> float:
    started = time.perf_counter()
    ids = list(Person.objects.filter(eligible_on(day)).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), tasks.CHUNK):
        list(Person.objects.filter(pk__in=ids[start:start + tasks.CHUNK]).select_related("household__society")
             .prefetch_related("household__persons"))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slice-seconds", type=float, default=settings.KENPO_NOTICES_SLICE_SECONDS)
    parser.add_argument("--keep-records", action="store_true")
    parser.add_argument("--first-only", action="store_true", help="the first-ever pass and the floor, no second night")
    args = parser.parse_args()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    day = today()
    persons = Person.objects.filter(eligible_on(day)).count()
    if not args.keep_records:
        NoticeRecord.objects.all().delete()
    print(f"{persons:,} eligible persons; slices of at most {args.slice_seconds:.0f} s (+ one chunk of {tasks.CHUNK})")
    print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
    first = "a night with the records kept" if args.keep_records else "first-ever pass"
    nights = (first,) if args.first_only else (first, "next night, nothing changed")
    for night in nights:
        total, slices, sent = one_pass(day, args.slice_seconds)
        print(f"{night}: {total:.1f} s in {len(slices)} slices (longest {max(slices):.1f} s, limit "
              f"{settings.CELERY_TASK_SOFT_TIME_LIMIT} s), {persons / total:,.0f} persons/s, {sent} e-mails, "
              f"{NoticeRecord.objects.count():,} records; load average {os.getloadavg()[0]:.2f}", flush=True)
    took = floor(day)
    print(f"floor (the same persons and related rows loaded, nothing computed): {took:.1f} s, "
          f"{persons / took:,.0f} persons/s; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
