"""Benchmark: the morning the reminders go out (issue 26, target 2) — a Locust load test of
distinct members who each log in, open the dashboard, download their お知らせ and open one
guide, against gunicorn + PostgreSQL + Redis as deployed, with the bare view beside it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
        python bench/morning.py --members 2000 --minutes 8 --workers 3

Needs a database with demo persons (``python manage.py seed_demo --persons 30000`` or more).
Steps, each bounded in time, talking to 127.0.0.1 only:

1. Creates (or reuses) ``--members`` member logins ``morning-NNNNN@bench.invalid`` with a
   verified e-mail address and a real password (one PBKDF2 hash, made by the project's
   hasher, shared by all: the login checks it as it checks any; making 2,000 distinct ones
   would cost 2,000 hashes here and nothing at login), each linked to the insured person
   of a different household, each with their お知らせ on record (``NoticeRecord``), plus
   ``--warmup`` more that only warm the server. Times the password hasher in process.
2. Collects the static files (production's manifest storage), empties the Redis db of
   REDIS_URL (cache, sessions' cache, rate limits: set a db of your own), and starts
   gunicorn as docker-compose.yml does (``kenpo_portal/gunicorn.conf.py``: sync workers,
   GUNICORN_WORKERS) with ``bench.morning_settings`` (DJANGO_ENV=production; Caddy's
   headers sent by the client).
3. Warm-up: the ``--warmup`` members' mornings (not measured: imports, templates, fonts).
4. The morning: the members arrive evenly over ``--minutes`` (Locust users with
   ``constant_pacing``), each once, with 1–3 s between pages (``--think``). ``--minutes 60``
   with 2,000 members is the hour's burst (0.56 arrivals/s); 5–10 minutes compresses it
   to show the headroom.
5. The floor: each member's session opens the bare view (one primary-key query, a one-line
   template; ``member.bench_views.bare``) over ``--bare-users`` connections, no pause — in
   as many passes over the sessions as make 2,000 requests or more.

Prints requests/s, p50/p99/max per page and the errors, the server's CPU per member, the
bare view's requests/s beside, and writes everything to bench/results/.
"""

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PASSWORD = "asa-no-oshirase-2026"  # a bench login's, in a bench database only
PAGES = ["login page", "static file", "login (POST)", "dashboard", "お知らせ list", "お知らせ PDF", "guide"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ip(i: int) -> str:
    return f"10.26.{i // 250}.{i % 250 + 1}"


def hasher_cost(runs: int = 5) -> dict:
    """CPU per password check: the project's hasher (what a login costs at least), and
    Django's built-in scrypt beside it (a memory-hard alternative, for the note)."""
    from django.contrib.auth.hashers import (
        ScryptPasswordHasher,
        check_password,
        get_hasher,
        make_password,
    )

    out = {}
    encoded = make_password(PASSWORD)
    scrypt = ScryptPasswordHasher()
    for name, check in (
        (f"{get_hasher().algorithm} ({getattr(get_hasher(), 'iterations', '')} iterations)",
         lambda: check_password(PASSWORD, encoded)),
        (f"scrypt (n={scrypt.work_factor}, r={scrypt.block_size}, p={scrypt.parallelism})",
         (lambda e=scrypt.encode(PASSWORD, scrypt.salt()): scrypt.verify(PASSWORD, e))),
    ):
        cpu = []
        for _ in range(runs):
            started = time.process_time()
            assert check()
            cpu.append((time.process_time() - started) * 1000)
        out[name] = statistics.median(cpu)
    return out


def prepare(members: int, warmup: int, offset: int, seed: int) -> tuple[list[dict], list[dict], dict]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password, identify_hasher, make_password

    from eligibility import selectors
    from eligibility.models import MemberLink, Person
    from member.situation import GUIDES
    from notices.items import digest, notice_items
    from notices.models import NoticeRecord

    User = get_user_model()
    total = warmup + offset + members
    if Person.objects.count() < 30000:
        sys.exit("seed_demo --persons 30000 (or more) first")
    from _logins import member_logins

    users = member_logins(prefix="morning", count=total, verified=True, shuffled=True)
    # One real hash of PASSWORD by the project's hasher, checked at every login; a login
    # made here (password "!") or hashed by another hasher gets it.
    encoded = users[0].password
    if encoded == "!" or not check_password(PASSWORD, encoded) or identify_hasher(encoded).must_update(encoded):
        encoded = make_password(PASSWORD)
    User.objects.filter(pk__in=[u.pk for u in users]).exclude(password=encoded).update(password=encoded)
    links = dict(MemberLink.objects.filter(user__in=users).values_list("user_id", "person_id"))
    # Each member's お知らせ on record, as the nightly pass leaves it (R10).
    persons = (Person.objects.filter(pk__in=links.values()).select_related("household__society")
               .prefetch_related("household__persons"))
    today = selectors.today()
    have = set(NoticeRecord.objects.filter(person_id__in=links.values()).values_list("person_id", flat=True))
    from django.utils import timezone

    NoticeRecord.objects.bulk_create([
        NoticeRecord(person=p, items_digest=digest(notice_items(p, today=today)), available_since=timezone.now())
        for p in persons if p.pk not in have
    ])
    rng = random.Random(seed)
    slugs = sorted(GUIDES)
    rows = [{"email": u.email, "password": PASSWORD, "person": links[u.pk], "guide": rng.choice(slugs), "ip": _ip(i)}
            for i, u in enumerate(users)]
    return rows[warmup + offset:], rows[:warmup], hasher_cost()


def _gunicorn_cpu(master: int) -> float:
    import psutil

    total = 0.0
    for p in psutil.Process(master).children(recursive=True):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _machine() -> dict:
    """CPU seconds so far: the whole machine (busy, from /proc/stat), and every PostgreSQL
    and Redis process (shared with other databases: an upper bound of ours)."""
    import psutil

    t = psutil.cpu_times()
    busy = t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)
    services = {}
    for p in psutil.process_iter(["name"]):
        if p.info["name"] and (p.info["name"].startswith("postgres") or p.info["name"].startswith("redis")):
            try:
                c = p.cpu_times()
                services[p.pid] = c.user + c.system
            except psutil.NoSuchProcess:
                pass
    return {"busy": busy, "services": services}


def _services_cpu(before: dict, after: dict) -> float:
    return sum(v - before["services"].get(pid, 0.0) for pid, v in after["services"].items())


def locust(url: str, mode: str, members: list[dict], *, users: int, pacing: float, think: str, label: str,
           limit: float) -> dict:
    """One headless Locust run (a process of its own: gevent patches everything it imports)."""
    import psutil

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    members_file = RESULTS / f"morning-{label}-{stamp}-in.json"
    result_file = RESULTS / f"morning-{label}-{stamp}-out.json"
    members_file.write_text(json.dumps(members), encoding="utf-8")
    from django.conf import settings

    env = {**os.environ, "MORNING_MODE": mode, "MORNING_MEMBERS": str(members_file), "MORNING_RESULT": str(result_file),
           "MORNING_PACING": str(pacing), "MORNING_THINK": think, "MORNING_SESSION_COOKIE": settings.SESSION_COOKIE_NAME}
    spawn_rate = users / pacing if mode == "morning" else users
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "morning_locustfile.py"), "--headless",
               "-u", str(users), "-r", f"{spawn_rate:.3f}", "--host", url, "--run-time", f"{int(limit)}s",
               "--stop-timeout", "60", "--only-summary", "--loglevel", "WARNING",
               "--csv", str(RESULTS / f"morning-{label}-{stamp}")]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    client = psutil.Process(proc.pid)
    cpu = 0.0
    while proc.poll() is None:
        try:
            t = client.cpu_times()
            cpu = t.user + t.system
        except psutil.NoSuchProcess:
            break
        time.sleep(0.5)
    out = json.loads(result_file.read_text(encoding="utf-8"))
    out["wall"] = time.perf_counter() - started
    out["client_cpu"] = cpu
    return out


def summarise(samples: list) -> dict:
    by: dict[str, list] = {}
    for name, at, ms, ok in samples:
        by.setdefault(name, []).append((at, ms, ok))
    first = min(at for _, at, _, _ in samples)
    last = max(at + ms / 1000 for _, at, ms, _ in samples)
    window = last - first
    rows = {}
    for name, values in by.items():
        times = sorted(ms for _, ms, _ in values)
        rows[name] = {
            "requests": len(values), "errors": sum(1 for _, _, ok in values if not ok),
            "rps": len(values) / window, "p50": statistics.median(times),
            "p99": times[min(len(times) - 1, int(len(times) * 0.99))], "max": times[-1],
        }
    return {"window": window, "pages": rows, "requests": len(samples),
            "errors": sum(1 for *_, ok in samples if not ok), "rps": len(samples) / window}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=2000, help="distinct members, each arriving once (default 2000)")
    parser.add_argument("--minutes", type=float, default=8.0,
                        help="the members arrive evenly over this many minutes (60: the hour's burst; default 8)")
    parser.add_argument("--workers", default="3", help="gunicorn workers; a list (2,3,4) runs the morning for each")
    parser.add_argument("--think", default="1,3", help="seconds between a member's pages: min,max (default 1,3)")
    parser.add_argument("--pacing", type=float, default=30.0,
                        help="seconds between two members of one Locust user (longer than a morning; default 30)")
    parser.add_argument("--warmup", type=int, default=20, help="extra members who only warm the server up")
    parser.add_argument("--bare-users", type=int, default=8, help="connections of the bare view's run (default 8)")
    parser.add_argument("--offset", type=int, default=0,
                        help="start at this member of the list (runs after another take members not used there)")
    parser.add_argument("--seed", type=int, default=26)
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", "") or "REDIS_URL" not in os.environ:
        sys.exit("set DATABASE_URL (PostgreSQL with demo persons) and REDIS_URL (a Redis db of your own: it is emptied)")

    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    static_root = RESULTS / "morning-static"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.morning_settings", "STATIC_ROOT": str(static_root)}
    os.environ.update(env)
    started_at = datetime.now(UTC)
    measured, warm, hashers = prepare(args.members, args.warmup, args.offset, args.seed)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], env=env, cwd=ROOT, check=True)

    arrivals = args.members / (args.minutes * 60)
    users = max(1, round(arrivals * args.pacing))
    report = {"started": started_at.isoformat(), "members": args.members, "minutes": args.minutes,
              "arrivals_per_s": arrivals, "locust_users": users, "pacing": args.pacing, "think": args.think,
              "hashers_cpu_ms": hashers, "runs": {}}
    for workers in [int(w) for w in args.workers.split(",")]:
        from django.core.cache import cache

        cache.clear()  # a cold morning: nobody's page, session or rate-limit count is cached
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "kenpo_portal.wsgi", "--config", "kenpo_portal/gunicorn.conf.py"],
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)}, cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or gunicorn.poll() is not None:
                        sys.exit("gunicorn did not start")
                    time.sleep(0.3)
            load_before = os.getloadavg()
            warm_run = locust(url, "morning", warm, users=min(len(warm), 2 * workers), pacing=1,
                              think="0,0",
                              label=f"w{workers}-warmup", limit=300)
            if any(not ok for *_, ok in warm_run["samples"]):
                sys.exit(f"the warm-up's mornings failed ({warm_run['flows_failed']} of {len(warm)}): see its CSV")
            cpu_before, machine_before = _gunicorn_cpu(gunicorn.pid), _machine()
            morning = locust(url, "morning", measured, users=users, pacing=args.pacing, think=args.think,
                             label=f"w{workers}", limit=args.minutes * 60 + 600)
            server_cpu, machine_after = _gunicorn_cpu(gunicorn.pid) - cpu_before, _machine()
            load_after = os.getloadavg()
            # Enough passes over the members' sessions for a steady figure (>= 2,000 requests).
            rounds = -(-2000 // max(1, len(morning["sessions"])))
            bare = locust(url, "bare", morning["sessions"] * rounds, users=args.bare_users, pacing=0, think="0,0",
                          label=f"w{workers}-bare", limit=300)
        finally:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        run = {"workers": workers, "load_before": load_before, "load_after": load_after,
               "warmup_errors": sum(1 for *_, ok in warm_run["samples"] if not ok),
               "morning": summarise(morning["samples"]), "flows_done": morning["flows_done"],
               "flows_failed": morning["flows_failed"], "first": morning["first"], "last": morning["last"],
               "server_cpu": server_cpu, "client_cpu": morning["client_cpu"], "morning_wall": morning["wall"],
               "machine_busy": machine_after["busy"] - machine_before["busy"],
               "services_cpu": _services_cpu(machine_before, machine_after), "bare": summarise(bare["samples"])}
        report["runs"][workers] = run
        print_run(report, run)
    out = RESULTS / f"morning-{started_at.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"(all figures: {out.relative_to(ROOT)})")
    failed = any(r["morning"]["errors"] or r["flows_failed"] or r["bare"]["errors"] for r in report["runs"].values())
    return 1 if failed else 0


def print_run(report: dict, run: dict) -> None:
    m, b = run["morning"], run["bare"]["pages"]["bare view"]
    cores = os.cpu_count()
    span = (run["last"] - run["first"]) / 60
    print()
    print(f"== {report['members']} distinct members arriving over {report['minutes']:g} min "
          f"({report['arrivals_per_s']:.2f}/s; {report['locust_users']} Locust users, one member each "
          f"every {report['pacing']:g} s, {report['think']} s between pages); gunicorn {run['workers']} sync workers "
          f"on {cores} cores ({run['workers'] / cores:g} per core); load average {run['load_before'][0]:.2f} before, "
          f"{run['load_after'][0]:.2f} after")
    print(f"   mornings done {run['flows_done']}, failed {run['flows_failed']}; the last member finished "
          f"{span:.1f} min after the first arrived")
    print(f"{'page':<16}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>7}")
    for name in PAGES:
        r = m["pages"].get(name)
        if r:
            print(f"{name:<16}{r['requests']:>9}{r['rps']:>8.2f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['max']:>9.1f}"
                  f"{r['errors']:>7}")
    print(f"{'all pages':<16}{m['requests']:>9}{m['rps']:>8.2f}{'':>27}{m['errors']:>7}   "
          f"error rate {m['errors'] / m['requests']:.2%}")
    print(f"{'bare view':<16}{b['requests']:>9}{b['rps']:>8.1f}{b['p50']:>9.1f}{b['p99']:>9.1f}{b['max']:>9.1f}"
          f"{b['errors']:>7}   <- the floor: the members' sessions, {run['bare']['window']:.1f} s, no pause")
    per_member = run["server_cpu"] / max(1, run["flows_done"])
    print(f"   gunicorn CPU {run['server_cpu']:.1f} s = {per_member * 1000:.0f} ms per member's morning "
          f"(PostgreSQL and Redis apart); Locust's own CPU {run['client_cpu']:.1f} s")
    wall, busy = run["morning_wall"], run["machine_busy"]
    others = busy - run["server_cpu"] - run["services_cpu"] - run["client_cpu"]
    print(f"   the machine over the morning's {wall:.0f} s: {busy / wall:.2f} of {cores} cores busy = gunicorn "
          f"{run['server_cpu'] / wall:.2f} + PostgreSQL and Redis {run['services_cpu'] / wall:.2f} + Locust "
          f"{run['client_cpu'] / wall:.2f} + everything else {others / wall:.2f}")
    for name, ms in report["hashers_cpu_ms"].items():
        print(f"   password check, {name}: {ms:.0f} ms CPU (in process, median of 5)")
    need = per_member * report["arrivals_per_s"]
    print(f"   at {report['arrivals_per_s']:.2f} arrivals/s the workers need {need:.2f} cores of gunicorn CPU "
          f"({need / cores:.0%} of this machine)")


if __name__ == "__main__":
    sys.exit(main())
