"""What /healthz asks, each part with a deadline: the answer comes within ~2 s whatever hangs.

Parts (each one failing names itself in the 503's body):

- ``database``: a connection of its own (never the request's) and ``SELECT 1``.
- ``broker`` / ``cache``: ``PING`` to the Redis of Celery and of the cache (one part when
  they are the same server), with socket timeouts.
- ``beat`` and ``worker:<queue>``: the heartbeat. Beat sends ``kenpo_portal.heartbeat`` to
  every queue each minute (``kenpo_portal/celery.py``) and notes the time it sent them; the
  worker that takes one from its queue notes the time it answered. Either note older than
  ``KENPO_HEARTBEAT_STALE_SECONDS`` (or missing) fails that part. A queue whose only worker
  is busy with one long job (a 1,000,000-row import takes 1–2 minutes) answers late too.

All probes run at once, in threads; whatever has not answered by ``DEADLINE`` seconds
fails as ``timeout``. A thread left behind ends by its own socket timeout.

The embedded default (no ``REDIS_URL``: eager tasks, no broker, no worker) checks the
database only.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.module_loading import import_string

from .celery import WORKER_QUEUES
from .celery import app as celery_app

DEADLINE = 1.2  # seconds for all probes together: the view answers within 2 s even on a loaded machine
SOCKET_TIMEOUT = 1.0  # each Redis or PostgreSQL connection's own limit (connect, then each reply)
HEARTBEAT_KEY = "kenpo:heartbeat:{part}"

Probe = Callable[[], None]


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=SOCKET_TIMEOUT, socket_timeout=SOCKET_TIMEOUT)


def _uses_workers() -> bool:
    return not celery_app.conf.task_always_eager and str(celery_app.conf.broker_url).startswith("redis")


def broker_url() -> str:
    return str(celery_app.conf.broker_url)


def note_heartbeat(part: str, *, url: str | None = None) -> None:
    """Record that ``part`` (``beat`` or ``worker:<queue>``) is alive now."""
    stale = settings.KENPO_HEARTBEAT_STALE_SECONDS
    with _redis(url or broker_url()) as client:
        client.set(HEARTBEAT_KEY.format(part=part), repr(time.time()), ex=stale * 10)


def heartbeat_ages(*, url: str | None = None) -> dict[str, float | None]:
    """Seconds since each part's last heartbeat (None: never, or too long ago to keep)."""
    parts = ["beat", *(f"worker:{queue}" for queue in WORKER_QUEUES)]
    with _redis(url or broker_url()) as client:
        values = client.mget([HEARTBEAT_KEY.format(part=part) for part in parts])
    now = time.time()
    return {part: (now - float(value)) if value else None for part, value in zip(parts, values, strict=True)}


def _database() -> None:
    # A fresh connection in this thread, with a connect timeout: a silent server cannot
    # hold the probe (and the request's own connection is never touched).
    wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
    wrapper.settings_dict = copy.deepcopy(wrapper.settings_dict)
    if wrapper.vendor == "postgresql":
        options = wrapper.settings_dict.setdefault("OPTIONS", {})
        options["connect_timeout"] = max(1, int(SOCKET_TIMEOUT))
        options["options"] = f"{options.get('options', '')} -c statement_timeout={int(SOCKET_TIMEOUT * 1000)}".strip()
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        wrapper.close()


def _ping(url: str) -> Probe:
    def probe() -> None:
        with _redis(url) as client:
            client.ping()

    return probe


def _heartbeats() -> dict[str, str]:
    stale = settings.KENPO_HEARTBEAT_STALE_SECONDS
    failures = {}
    for part, age in heartbeat_ages().items():
        if age is None:
            failures[part] = "no heartbeat"
        elif age > stale:
            failures[part] = f"last heartbeat {int(age)} s ago"
    return failures


def _cache_url() -> str | None:
    cache = settings.CACHES["default"]
    if not issubclass(import_string(cache["BACKEND"]), RedisCache):
        return None
    location = cache["LOCATION"]
    return location[0] if isinstance(location, list | tuple) else str(location)


def check(*, workers: bool = True) -> dict[str, str]:
    """{part: what failed} — empty when everything answered in time.

    ``workers=False`` leaves out beat and the workers (``/healthz/web``: what a load
    balancer needs to know about this web process)."""
    probes: dict[str, Callable[[], object]] = {"database": _database}
    if _uses_workers():
        probes["broker"] = _ping(broker_url())
        if workers:
            probes["workers"] = _heartbeats
    cache_url = _cache_url()
    if cache_url and cache_url != broker_url():
        probes["cache"] = _ping(cache_url)

    executor = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="healthz")
    futures = {executor.submit(probe): name for name, probe in probes.items()}
    done, _pending = wait(futures, timeout=DEADLINE)
    executor.shutdown(wait=False)  # a probe still stuck ends on its own socket timeout

    failures: dict[str, str] = {}
    for future, name in futures.items():
        if future not in done:
            failures[name if name != "workers" else "heartbeat"] = "timeout"
            continue
        error = future.exception()
        if error is not None:
            failures[name if name != "workers" else "heartbeat"] = type(error).__name__
        elif name == "workers":
            failures.update(future.result())  # type: ignore[arg-type]
    return failures


def host_for_probe(allowed_hosts: str) -> str:
    """A Host header the site accepts, from DJANGO_ALLOWED_HOSTS: its first entry, a
    leading-dot domain (``.example.jp``, it and its subdomains) as the domain itself."""
    first = next((h.strip() for h in allowed_hosts.split(",") if h.strip()), "localhost")
    return "localhost" if first == "*" else first.lstrip(".")


def probe_http(path: str, environ: dict[str, str]) -> int:
    """GET ``path`` from gunicorn on this machine (GUNICORN_BIND's port), as a container
    healthcheck does: 0 on 200."""
    import http.client

    port = int(environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[1])
    host = host_for_probe(environ.get("DJANGO_ALLOWED_HOSTS", ""))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        print(response.status, response.read().decode(errors="replace")[:500])
        return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"{path}: {exc}")
        return 1
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    """``python -m kenpo_portal.health [PART …]``: exit 0 when the parts' heartbeats are
    fresh (docker-compose.yml's beat healthcheck: ``beat``); with no part, all of /healthz.
    ``--http PATH``: GET PATH from the local gunicorn (the web service's healthcheck)."""
    import os

    if argv[:1] == ["--http"]:
        return probe_http(argv[1] if len(argv) > 1 else "/healthz/web", dict(os.environ))
    import django

    django.setup()
    if not argv:
        failures = check()
    else:
        stale = settings.KENPO_HEARTBEAT_STALE_SECONDS
        ages = heartbeat_ages()
        failures = {part: "no heartbeat" if ages.get(part) is None else f"{int(ages[part] or 0)} s ago"
                    for part in argv if ages.get(part) is None or (ages[part] or 0) > stale}
    for part, error in failures.items():
        print(f"{part}: {error}")
    return 1 if failures else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
