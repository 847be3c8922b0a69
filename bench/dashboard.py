"""Benchmark: the member dashboard against a bare view, served by the same gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench python bench/dashboard.py
    python bench/dashboard.py --duration 15 --connections 8 --session db

Needs a database with demo persons (``python manage.py seed_demo --persons N``) and its
member login (member@example.jp, or ``--email``). Starts gunicorn on 127.0.0.1, loads a
logged-in member's dashboard and a bare view (a tiny template and one primary-key query,
no session) with wrk, each for ``--duration`` seconds after a short warm-up, and prints
requests/s and p50/p99 side by side with the ratio. Target: dashboard >= 60 % of the bare
view's throughput, p99 < 100 ms. Bounded in time; talks to 127.0.0.1 only.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.60
TARGET_P99_MS = 100.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def member_cookie(email: str) -> tuple[str, int, int, int]:
    """(Cookie header, person pk for the bare view, persons on the dashboard, persons in the DB).

    Builds the session without a login request, so nothing is written with the cookie
    engine (and only the session row with the db engine).
    """
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.utils.module_loading import import_string

    from eligibility import selectors
    from eligibility.models import Person

    user = get_user_model().objects.get(email=email)
    link = selectors.member_link_for(user)
    if link is None:
        sys.exit(f"{email} is not linked to a person: run seed_demo first")
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    shown = selectors.persons_for_link(link).count()
    total = Person.objects.count()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}", link.person_id, shown, total


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"gunicorn did not answer {url} in {timeout:.0f} s")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * _UNITS[unit]


def run_wrk(url: str, *, duration: int, connections: int, threads: int, cookie: str | None) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=duration + 30, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--email", default="member@example.jp")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per view (default 10)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is reported")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    parser.add_argument("--session", choices=["cookie", "db"], default="cookie")
    parser.add_argument("--also", metavar="PATH", help="a third page to load with the member's session, "
                        "e.g. /my/guides/renewal/ (the floor of any logged-in page)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL to the PostgreSQL database with the demo persons")

    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.dashboard_settings", "KENPO_BENCH_SESSION": args.session,
           "KENPO_BENCH_VIEWS": "1"}
    os.environ.update(env)
    cookie, person_pk, shown, total = member_cookie(args.email)

    load_before = os.getloadavg()[0]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "kenpo_portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--worker-class", "gthread", "--threads", str(args.gunicorn_threads),
         "--keep-alive", "5", "--log-level", "warning"],
        env=env, cwd=ROOT,
    )
    try:
        bare_url, dash_url = f"{base}/my/bench/bare/{person_pk}/", f"{base}/my/"
        wait_ready(bare_url)
        # The dashboard must really be the member's page, not a redirect to the login.
        request = urllib.request.Request(dash_url, headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=10) as response:
            page = response.read().decode()
            if response.url != dash_url or "person-card" not in page:
                sys.exit("the session cookie did not open the member's dashboard")
        load = {"duration": args.duration, "connections": args.connections, "threads": args.threads}
        for url, c in ((bare_url, None), (dash_url, cookie)):  # warm up both
            run_wrk(url, **{**load, "duration": 2}, cookie=c)
        # Rounds alternate the views so a passing load on the shared cores hits both;
        # each figure is the round with the median throughput.
        bare_runs, dash_runs, also_runs = [], [], []
        for _ in range(args.rounds):
            bare_runs.append(run_wrk(bare_url, **load, cookie=None))
            dash_runs.append(run_wrk(dash_url, **load, cookie=cookie))
            if args.also:
                also_runs.append(run_wrk(f"{base}{args.also}", **load, cookie=cookie))
        bare, dash = _median_run(bare_runs), _median_run(dash_runs)
        also = _median_run(also_runs) if also_runs else None
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(timeout=15)
        except subprocess.TimeoutExpired:
            gunicorn.kill()

    ratio = dash["rps"] / bare["rps"] if bare["rps"] else 0.0
    print(f"persons in the database: {total:,}; on this member's dashboard: {shown}; session: {args.session}; "
          f"load average before: {load_before:.2f}, after: {os.getloadavg()[0]:.2f} (2 cores shared with wrk)")
    print(f"gunicorn: {args.workers} workers x {args.gunicorn_threads} threads (gthread); "
          f"wrk: {args.threads} thread, {args.connections} connections, {args.duration} s per view, "
          f"median of {args.rounds} alternating rounds")
    print(f"{'view':<12}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'non-2xx':>9}")
    rows = [("bare", bare), ("dashboard", dash)] + ([(args.also, also)] if also else [])
    for name, r in rows:
        print(f"{name:<12}{r['rps']:>10.1f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['requests']:>10}{r['errors']:>9}")
    ok_ratio, ok_p99 = ratio >= TARGET_RATIO, dash["p99"] < TARGET_P99_MS
    print(f"dashboard / bare throughput: {ratio:.0%} (target >= {TARGET_RATIO:.0%}: {'met' if ok_ratio else 'NOT met'}); "
          f"dashboard p99 {dash['p99']:.1f} ms (target < {TARGET_P99_MS:.0f} ms: {'met' if ok_p99 else 'NOT met'})")
    if also:
        print(f"{args.also} / bare throughput: {also['rps'] / bare['rps']:.0%}")
    return 0 if all(r["errors"] == 0 for _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
