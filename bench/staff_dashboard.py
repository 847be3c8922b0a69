"""Benchmark: the staff dashboard at a million persons.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench \
        .venv/bin/python manage.py seed_demo --persons 1000000    # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench \
        .venv/bin/python bench/staff_dashboard.py [--runs 5]

Times the society-wide query of ``staff.dashboard`` (run by the worker), then the
page through Django's test client (in process, no network): the first view ever
(empty cache, computes in the request), a cached view, and a view of a stale
summary (shown at once, refresh enqueued); then the admin person lists the numbers
link to. Target: no page over 1 s.
"""

import argparse
from datetime import timedelta

from _setup import timed  # sets Django up first
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client

from certificates.selectors import ex_officio_counts
from eligibility.models import Person
from eligibility.selectors import today
from staff import dashboard, selectors, tasks
from staff.figures import dashboard_figures
from staff.testing import login_with_mfa, make_staff

EMAIL = "bench-dashboard@example.jp"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}, "
          f"persons: {Person.objects.count():,}, cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}")
    day = today()

    worst = {}
    worst["society_counts"] = timed("society_counts (statuses + expiries, one query)",
                                    lambda: selectors.society_counts(day=day), args.runs)
    worst["work"] = timed("work_counts (five counts)", selectors.work_counts, args.runs)
    worst["ex_officio"] = timed("ex_officio_counts (R6 per basis, one grouped query)",
                                lambda: ex_officio_counts(today=day), args.runs)

    user = get_user_model().objects.filter(email=EMAIL).first() or make_staff(
        role=None, email=EMAIL, superuser=True
    )
    client = Client()
    login_with_mfa(client, user)

    def page(url: str):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    # No worker here: the background refresh a stale summary asks for is counted, not run.
    enqueued = []
    tasks.refresh_dashboard.apply_async = lambda **kw: enqueued.append(kw)

    def cold():
        cache.delete(dashboard.CACHE_KEY)
        page("/staff/")

    def stale():
        summary = cache.get(dashboard.CACHE_KEY)
        summary.computed_at -= timedelta(minutes=5)
        cache.set(dashboard.CACHE_KEY, summary)
        cache.delete(dashboard.REFRESHING_KEY)
        page("/staff/")

    worst["page cold"] = timed("GET /staff/ with an empty cache (first view ever)", cold, args.runs)
    worst["page cached"] = timed("GET /staff/ (summary under a minute old)", lambda: page("/staff/"), args.runs)
    worst["page stale"] = timed("GET /staff/ (older summary, refresh enqueued)", stale, args.runs)
    print(f"refreshes enqueued: {len(enqueued)}; worker's refresh_summary():")
    worst["refresh_summary (worker)"] = timed("  refresh_summary() in the worker", dashboard.refresh_summary, args.runs)
    summary = dashboard_figures(dashboard.dashboard_summary())
    links = [summary.persons.url, summary.holders.url, *(f.url for f in summary.statuses),
             summary.ex_officio_total.url, *(f.url for f in summary.ex_officio),
             summary.months[1].ecert_url]
    for url in links:
        response = client.get(url)
        if response.status_code != 200 or "?e=1" in response.get("Location", ""):
            print(f"{url:<58} (filter not available yet: {response.status_code})")
            continue
        worst[url] = timed(url, lambda url=url: page(url), max(1, args.runs // 2))
    pages = {k: v for k, v in worst.items() if k.startswith(("page", "/"))}
    slowest = max(pages, key=pages.get)
    print(f"slowest page a staff member waits for: {slowest} {pages[slowest] * 1000:.0f} ms "
          f"({'under' if pages[slowest] < 1 else 'OVER'} 1 s; 'page cold' happens once, on the first view ever)")


if __name__ == "__main__":
    main()
