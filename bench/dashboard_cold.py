"""Benchmark: the member dashboard on a cold cache — many members, each opening it once —
beside the bare view (one primary-key query, a one-line template: THE floor, issue 26) and
a bare dashboard (the dashboard's own queries and Python, a trivial template) on the same
gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
        python bench/dashboard_cold.py --logins 1000

Needs a database with demo persons (``python manage.py seed_demo --persons N``). Creates
``--logins`` member logins (``bench-NNNNN@bench.invalid``, linked to the insured persons of
distinct households; kept for the next run) and a signed-cookie session for each, as a
sign-in leaves it (``user_logged_in``'s receivers: the idle clock, the contact check), empties
the cache (the Redis of REDIS_URL), starts gunicorn on 127.0.0.1, then, with
``--connections`` keep-alive connections:

1. bare view: every login's own person through ``member.bench_views.bare`` (no session:
   one primary-key query and a one-line template), the floor; then the same with the
   login's session (what every signed-in page pays first: the session, its user, the
   middlewares), beside it;
2. bare dashboard: every login opens the bare dashboard once (its session, the dashboard's
   queries and Python, a trivial template);
3. cold: every login opens the dashboard once (nothing of theirs is cached);
4. warm: every login opens it again (their page is cached), then the bare view again.

It prints requests/s, p50 and p99 of each, bytes per page, the ratios against the bare
view of the same phase (the mean of the bare view before and after, and each alone), and
the queries one cold dashboard runs and each page's median time in this process (Django's
test client, ``--in-process`` of the measured logins, after the HTTP phases). Targets
(issue 26): cold >= 40 % of the bare view, cold p99 < 150 ms; warm >= 60 % (issue 12).
Bounded in count and time; talks to 127.0.0.1 only.
"""

import argparse
import http.client
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
TARGET_COLD, TARGET_WARM, TARGET_P99_MS = 0.40, 0.60, 150.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(logins: int) -> list[tuple[str, int]]:
    """(Cookie header, the login's own person pk) of ``logins`` member logins, each linked
    to a different household."""
    import django

    django.setup()
    from _logins import member_logins
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.cache import cache
    from django.utils.module_loading import import_string

    from core.middleware import start_idle_clock
    from eligibility.models import MemberLink
    from employer.middleware import remember_at_sign_in

    existing = member_logins(prefix="bench", count=logins)
    store_class = import_string(settings.SESSION_ENGINE + ".SessionStore")
    person_of = dict(MemberLink.objects.filter(user__in=existing).values_list("user_id", "person_id"))
    cookies = []
    for user in existing:
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        signed_in = SimpleNamespace(session=store)  # what a sign-in (a POST) leaves in the session
        for remember in (start_idle_clock, remember_at_sign_in):
            remember(request=signed_in, user=user)
        store.save()
        cookies.append((f"{settings.SESSION_COOKIE_NAME}={store.session_key}", person_of[user.pk]))
    cache.clear()  # the Redis database of REDIS_URL: this benchmark's own (set a db of your own)
    return cookies


def load(port: int, path: str, cookies: list[tuple[str, int]], *, connections: int, check: str | None = None,
         session: bool = True) -> dict:
    """Each login opens ``path`` once (``{pk}``: its own person), over ``connections``
    keep-alive connections; without ``session``, no cookie is sent."""
    work: queue.Queue[tuple[str, int]] = queue.Queue()
    for c in cookies:
        work.put(c)
    latencies: list[float] = []
    sizes: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, mine_sizes = [], []
        while True:
            try:
                cookie, pk = work.get_nowait()
            except queue.Empty:
                break
            headers = {"Cookie": cookie, "Host": "127.0.0.1"} if session else {"Host": "127.0.0.1"}
            started = time.perf_counter()
            conn.request("GET", path.format(pk=pk), headers=headers)
            response = conn.getresponse()
            body = response.read()
            mine.append((time.perf_counter() - started) * 1000)
            mine_sizes.append(len(body))
            if response.status != 200 or (check and check.encode() not in body):
                with lock:
                    errors.append(f"{response.status}")
        conn.close()
        with lock:
            latencies.extend(mine)
            sizes.extend(mine_sizes)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "requests": len(latencies),
        "errors": len(errors),
        "bytes": statistics.median(sizes),
    }


def in_process(cookies: list[tuple[str, int]]) -> dict:
    """The cold dashboard and the bare view in this process (Django's test client, the
    cache emptied first, each login once): median ms of each, and the median number of
    queries of a dashboard with the SQL of the last one."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    counts, last, dashboard_ms, bare_ms = [], [], [], []
    for cookie, pk in cookies:
        client = Client(HTTP_HOST="127.0.0.1")
        name, value = cookie.split("=", 1)
        client.cookies[name] = value
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get("/my/")
            dashboard_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        counts.append(len(captured))
        last = [q["sql"] for q in captured.captured_queries]
        started = time.perf_counter()
        assert Client(HTTP_HOST="127.0.0.1").get(f"/my/bench/bare/{pk}/").status_code == 200
        bare_ms.append((time.perf_counter() - started) * 1000)
    cache.clear()
    return {"queries": statistics.median(counts), "sql": last, "dashboard": statistics.median(dashboard_ms),
            "bare": statistics.median(bare_ms)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=1000, help="distinct member logins (default 1000)")
    parser.add_argument("--warmup", type=int, default=40, help="extra logins that warm the server up first")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    parser.add_argument("--show-sql", action="store_true", help="print the SQL of one cold dashboard")
    parser.add_argument("--in-process", type=int, default=110, help="logins timed in process after the HTTP phases")
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", "") or "REDIS_URL" not in os.environ:
        sys.exit("set DATABASE_URL (PostgreSQL with demo persons) and REDIS_URL (a Redis db of your own)")
    if not shutil.which("gunicorn") and not (Path(sys.executable).parent / "gunicorn").exists():
        sys.exit("gunicorn is not installed")

    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.dashboard_settings", "KENPO_BENCH_SESSION": "cookie",
           "KENPO_BENCH_VIEWS": "1"}
    os.environ.update(env)
    cookies = prepare(args.logins + args.warmup)
    warm_up, measured = cookies[: args.warmup], cookies[args.warmup:]

    port = _free_port()
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "kenpo_portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--worker-class", "gthread", "--threads", str(args.gunicorn_threads),
         "--keep-alive", "5", "--log-level", "warning"],
        env=env, cwd=ROOT,
    )
    load_before = os.getloadavg()[0]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("gunicorn did not start")
                time.sleep(0.3)
        view, bare, dash = "/my/bench/bare/{pk}/", "/bench/bare-dashboard/", "/my/"
        opts = {"connections": args.connections}
        # Warm the processes (imports, templates, connections) on logins not measured.
        load(port, view, warm_up, **opts, session=False)
        load(port, view, warm_up, **opts)
        load(port, bare, warm_up, **opts)
        load(port, dash, warm_up, **opts, check="person-card")
        results = {
            "bare view (floor)": load(port, view, measured, **opts, session=False),
            "bare view + session": load(port, view, measured, **opts),
            "bare dashboard": load(port, bare, measured, **opts),
            "dashboard cold": load(port, dash, measured, **opts, check="person-card"),
            "dashboard warm": load(port, dash, measured, **opts, check="person-card"),
            "bare view (again)": load(port, view, measured, **opts, session=False),
        }
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(timeout=15)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
    inside = in_process(measured[: args.in_process])

    print(f"{len(measured)} distinct member logins, each page once per phase; gunicorn {args.workers} workers x "
          f"{args.gunicorn_threads} threads; {args.connections} keep-alive connections; "
          f"load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f} (2 cores shared with the client)")
    print(f"{'view':<20}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}{'bytes':>8}")
    for name, r in results.items():
        print(f"{name:<20}{r['rps']:>9.1f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['requests']:>10}{r['errors']:>8}"
              f"{r['bytes']:>8.0f}")
    print(f"in process, {min(args.in_process, len(measured))} of these logins, cache emptied: a cold dashboard "
          f"{inside['dashboard']:.2f} ms median, {inside['queries']:g} queries (session's user, persons, the "
          f"household's other rows); the bare view {inside['bare']:.2f} ms: "
          f"{inside['bare'] / inside['dashboard']:.0%}")
    if args.show_sql:
        print("\n".join(inside["sql"]))
    floor = (results["bare view (floor)"]["rps"] + results["bare view (again)"]["rps"]) / 2
    cold = results["dashboard cold"]["rps"] / floor
    warm = results["dashboard warm"]["rps"] / floor
    p99 = results["dashboard cold"]["p99"]
    print(f"cold / bare view: {cold:.0%} (vs the bare view before: "
          f"{results['dashboard cold']['rps'] / results['bare view (floor)']['rps']:.0%}, after: "
          f"{results['dashboard cold']['rps'] / results['bare view (again)']['rps']:.0%}; vs the bare view with the "
          f"session: {results['dashboard cold']['rps'] / results['bare view + session']['rps']:.0%}; "
          f"vs the bare dashboard: "
          f"{results['dashboard cold']['rps'] / results['bare dashboard']['rps']:.0%})")
    print(f"target: cold >= {TARGET_COLD:.0%} of the bare view: {'met' if cold >= TARGET_COLD else 'NOT met'}; "
          f"cold p99 {p99:.1f} ms < {TARGET_P99_MS:.0f}: {'met' if p99 < TARGET_P99_MS else 'NOT met'}; "
          f"warm {warm:.0%} >= {TARGET_WARM:.0%}: {'met' if warm >= TARGET_WARM else 'NOT met'}")
    return 0 if all(r["errors"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
