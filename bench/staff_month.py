"""Benchmark: the staff's month at a society's size (issue 20) — every admin list and its
count, a deep page, each search form, the dashboard cold and warm, each beside its floor.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_<you>
    .venv/bin/python manage.py seed_demo --persons 300000        # once
    .venv/bin/python bench/staff_month.py [--runs 3]

In process (Django's test client, logged in with MFA as 管理者), PostgreSQL as set. The
floors run in the same process right before the pages they stand beside:

- ``SELECT count(*)`` of the list's table (what an exact count of the whole table costs),
- the primary-key page (``ORDER BY id DESC LIMIT 100``) and, for the deep page, the same
  page after a key (keyset) and at ``OFFSET`` 49,900 (what page 500 cost before).

A list whose count takes longer than ``KENPO_LIST_COUNT_IN_REQUEST_MS`` is counted by a
job: the bench runs that job in-process (timed on its own: it is a worker's time, not a
page's) and then times the page again, "warm" (the kept count). Celery is never asked:
``core.tasks.count_list`` and ``staff.tasks.refresh_dashboard`` are replaced by recorders, so
no message reaches any broker and no job runs inside a timed page (as eager mode would).
The dashboard is timed cold (its cache entry deleted: the first view computes the
numbers but R6's in the request) and warm. Target: no page over 1 s.
"""

import argparse
import statistics
import time

from _setup import timed  # sets Django up first
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from certificates.models import EligibilityCertificate
from certificates.selectors import ex_officio_candidates
from core import pagination, tasks
from core.wareki import format_wareki
from eligibility.models import Person
from eligibility.rules import add_months
from eligibility.selectors import today
from staff import dashboard
from staff import tasks as staff_tasks
from staff.testing import login_with_mfa, make_staff

EMAIL = "bench-staff-month@example.jp"
WIDTH = 64


def sql(statement: str, params=()):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            cursor.fetchall()
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    enqueued: list[str] = []
    tasks.count_list.apply_async = lambda args, **kw: enqueued.append(args[0])  # no broker: counted below
    # The dashboard's refresh is a worker's job too: never run inside the timed page (eager mode would).
    refreshes: list[int] = []
    staff_tasks.refresh_dashboard.apply_async = lambda *a, **kw: refreshes.append(1)
    # Kept counts of this run only (a run minutes after another starts cold too); nothing flushed.
    pagination.KEY_PREFIX = f"list-count:bench-{time.time_ns()}:"
    persons = Person.objects.count()
    print(f"database: {connection.settings_dict['NAME']}, persons: {persons:,}, "
          f"certificates: {EligibilityCertificate.objects.count():,}, in-request count budget: "
          f"{settings.KENPO_LIST_COUNT_IN_REQUEST_MS} ms, web statement timeout: "
          f"{settings.KENPO_WEB_STATEMENT_TIMEOUT_SECONDS} s", flush=True)
    print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}", flush=True)

    user = get_user_model().objects.filter(email=EMAIL).first() or make_staff(role=None, email=EMAIL,
                                                                               superuser=True)
    client = Client()
    login_with_mfa(client, user)
    worst: list[tuple[float, str]] = []
    # A fresh process compiles the admin's templates on its first list: not a page's cost.
    assert client.get("/admin/certificates/issuebatch/").status_code == 200

    def page(label: str, url: str, *, method: str = "get", data=None) -> float:
        def get():
            response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
            assert response.status_code in (200, 302), (url, response.status_code)
        took = timed(label, get, args.runs, width=WIDTH)
        worst.append((took, label))
        return took

    def listed(label: str, url: str) -> None:
        """A list, cold (count in the request or handed to a job), the job, then warm."""
        enqueued.clear()
        started = time.perf_counter()
        response = client.get(url)
        cold = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        counted = response.context_data["cl"].paginator.counted
        state = "exact in request" if counted.exact and counted.counted_at is None else "「約」, job queued"
        print(f"{label + ' (first view)':<{WIDTH}} {cold * 1000:7.0f} ms   {counted.value:>9,}  {state}", flush=True)
        worst.append((cold, label + " (first view)"))
        for key in dict.fromkeys(enqueued):
            started = time.perf_counter()
            value = pagination.count_by_job(key)
            print(f"{'  … count job (a worker)':<{WIDTH}} {(time.perf_counter() - started) * 1000:7.0f} ms   "
                  f"{value if value is not None else 'gave up':>9,}", flush=True)
        page(label, url)

    day = today()
    # --- floors --------------------------------------------------------------------------------
    print("\n== floors (bare SQL, same run)", flush=True)
    for table in ("eligibility_person", "eligibility_household", "certificates_eligibilitycertificate",
                  "audit_auditentry", "certificates_batchitem", "reminders_reminder"):
        timed(f"SELECT count(*) FROM {table}", sql(f"SELECT count(*) FROM {table}"), args.runs, width=WIDTH)
    timed("primary-key page: persons ORDER BY id DESC LIMIT 100",
          sql("SELECT * FROM eligibility_person ORDER BY id DESC LIMIT 100"), args.runs, width=WIDTH)
    ids = list(Person.objects.order_by("-pk").values_list("pk", flat=True)[49_900:49_901])
    if ids:
        timed("keyset page 500: persons WHERE id < k ORDER BY id DESC LIMIT 100",
              sql("SELECT * FROM eligibility_person WHERE id < %s ORDER BY id DESC LIMIT 100", ids), args.runs,
              width=WIDTH)
    timed("OFFSET page 500: persons ORDER BY id DESC OFFSET 49900 LIMIT 100",
          sql("SELECT * FROM eligibility_person ORDER BY id DESC OFFSET 49900 LIMIT 100"), args.runs, width=WIDTH)

    # --- every admin list and its count -----------------------------------------------------------
    print("\n== admin lists (first view, the count job if any, then warm)", flush=True)
    next_month = add_months(day.replace(day=1), 1)
    lists = [
        ("persons", "/admin/eligibility/person/"),
        ("persons: 資格あり", "/admin/eligibility/person/?eligible=yes"),
        ("persons: マイナ保険証を使える人", "/admin/eligibility/person/?status=holder"),
        ("persons: 利用登録なし", "/admin/eligibility/person/?status=not_registered"),
        ("persons: 利用登録の解除", "/admin/eligibility/person/?status=lapsed"),
        ("persons: e-cert expiring next month", f"/admin/eligibility/person/?expires=ecert:{next_month:%Y-%m}"),
        ("persons: 続柄=子", "/admin/eligibility/person/?relationship__exact=child"),
        ("households", "/admin/eligibility/household/"),
        ("ex-officio list (R6)", "/admin/certificates/exofficiocandidate/"),
        ("ex-officio: 職権①", "/admin/certificates/exofficiocandidate/?basis=cutoff"),
        ("ex-officio: 職権③", "/admin/certificates/exofficiocandidate/?basis=lapsed"),
        ("ex-officio: 職権⑤", "/admin/certificates/exofficiocandidate/?basis=renewal"),
        ("ex-officio: 70〜74歳", "/admin/certificates/exofficiocandidate/?age=70-74"),
        ("certificates", "/admin/certificates/eligibilitycertificate/"),
        ("certificates: 印刷待ち", "/admin/certificates/eligibilitycertificate/?status__exact=rendered"),
        ("requests", "/admin/certificates/reissuerequest/"),
        ("batches", "/admin/certificates/issuebatch/"),
        ("batch items", "/admin/certificates/batchitem/"),
        ("print files", "/admin/certificates/printfile/"),
        ("reminders", "/admin/reminders/reminder/"),
        ("activation codes", "/admin/eligibility/activationcode/"),
        ("member links", "/admin/eligibility/memberlink/"),
        ("audit log", "/admin/audit/auditentry/"),
        ("change history (auditlog)", "/admin/auditlog/logentry/"),
    ]
    for label, url in lists:
        listed(label, url)

    # --- deep pages ------------------------------------------------------------------------------
    print("\n== page 500", flush=True)
    page("persons ?p=500 (OFFSET; sorted by 記号・番号)", "/admin/eligibility/person/?p=500")
    deep = list(ex_officio_candidates(today=day).order_by("-pk").values_list("pk", flat=True)[49_900:49_901])
    if deep:
        page("ex-officio list page 500 by keyset (?after=)", f"/admin/certificates/exofficiocandidate/?after={deep[0]}")
        page("ex-officio list ?p=500 (OFFSET, what it cost before)", "/admin/certificates/exofficiocandidate/?p=500")
    else:
        print("ex-officio list has fewer than 50,000 rows: no page 500", flush=True)

    # --- each search form ------------------------------------------------------------------------
    print("\n== searches", flush=True)
    someone = Person.objects.select_related("household").order_by("pk")[persons // 2]
    born = someone.birth_date
    searches = [
        ("kana サトウ", "サトウ"),
        ("name without the space (kanji)", someone.family_name + someone.given_name),
        ("name without the space (hiragana)",
         "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c
                 for c in someone.family_name_kana + someone.given_name_kana)),
        ("date of birth, Western", born.isoformat()),
        ("date of birth, wareki", format_wareki(born)),
        ("name + date of birth", f"{someone.family_name} {born:%Y/%m/%d}"),
        ("a term that matches nobody", "ゾゾゾゾ"),
    ]
    for label, q in searches:
        page(f"persons search: {label}", "/admin/eligibility/person/?" + urlencode({"q": q}))
    page("ex-officio search: kana サトウ", "/admin/certificates/exofficiocandidate/?" + urlencode({"q": "サトウ"}))
    page("certificates search: kana サトウ", "/admin/certificates/eligibilitycertificate/?" + urlencode({"q": "サトウ"}))
    page("requests search: kana サトウ", "/admin/certificates/reissuerequest/?" + urlencode({"q": "サトウ"}))
    household = someone.household
    page("記号・番号 lookup (POST, 109-200004-00 form)", reverse("admin:eligibility_person_lookup"), method="post",
         data={"symbol": f"{household.symbol}-{household.number}-{someone.branch_number}"})

    # --- the dashboard ---------------------------------------------------------------------------
    print("\n== staff dashboard", flush=True)
    timed("refresh_summary (the worker's job, R6 included)", dashboard.refresh_summary, 1, width=WIDTH)
    colds = []
    for _ in range(args.runs):
        cache.delete(dashboard.CACHE_KEY)
        started = time.perf_counter()
        assert client.get("/staff/").status_code == 200
        colds.append(time.perf_counter() - started)
    print(f"{'dashboard cold (empty cache: says it is counting; a worker counts)':<{WIDTH}} median "
          f"{statistics.median(colds) * 1000:7.0f} ms   max {max(colds) * 1000:7.0f} ms", flush=True)
    worst.append((max(colds), "dashboard cold"))
    dashboard.refresh_summary()
    page("dashboard warm", "/staff/")

    over = [(t, label) for t, label in worst if t >= 1]
    print(f"\nworst page: {max(worst)[0] * 1000:.0f} ms ({max(worst)[1]}); "
          f"{len(over)} of {len(worst)} over 1 s: {', '.join(label for _, label in over) or 'none'}")
    print(f"load average at end: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
