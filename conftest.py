"""Fixtures shared by every app's tests: the personas and the real services.

Personas (as in healthchecks' tests): alice is an insured person with a spouse
and a child; bob is alice's adult son with his own login (sees only himself);
charlie is in another household (an outsider to alice's).
"""

import functools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest

from tests.factories import CardFactsFactory, HouseholdFactory, PersonFactory, verified_member

# The browser fixtures (Playwright, Chromium, axe), for every app's browser tests.
pytest_plugins = ["tests.browser_support"]

REQUIRE_SERVICES = os.environ.get("KENPO_REQUIRE_SERVICES") == "1"

# KENPO_TEST_TODAY=2031-01-01 moves the clock of the whole run to that day, 12:00 in
# Tokyo (the same date in UTC), and lets it tick: every test must pass on any day.
# Worker processes the tests start get the same clock (KENPO_TEST_CLOCK_OFFSET, tests/clock.py).
TEST_TODAY = os.environ.get("KENPO_TEST_TODAY", "")
_traveller = None


def pytest_configure(config):
    global _traveller
    from django.conf import settings

    # PBKDF2's 1M iterations cost a second or more per user made or logged in: tests
    # check who may do what, not the hash (production keeps Django's default).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if TEST_TODAY:
        from tests import clock

        day = date.fromisoformat(TEST_TODAY)
        _traveller = clock.travel_to(datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("Asia/Tokyo")))


def pytest_unconfigure(config):
    if _traveller is not None:
        _traveller.stop()


def pytest_report_header(config):
    if TEST_TODAY:
        return f"KENPO_TEST_TODAY={TEST_TODAY}: the clock starts at {TEST_TODAY} 12:00 Asia/Tokyo"
    return None


@pytest.fixture(autouse=True)
def _fresh_contact():
    """The society's contact is kept a minute per process (eligibility.contact): each test
    reads its own database's, never one cached by the test before."""
    from eligibility import contact

    contact.forget()
    yield
    contact.forget()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Generated files go to a folder of their own for each test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    """Each test starts with an empty cache of its own (cached dashboards, rate limits,
    sessions), never flushing a Redis that something else may be using.

    With REDIS_URL set (bin/test on a machine with Redis, CI) that is the real Redis
    cache, as in production, under a key prefix of this test's own, deleted after it;
    without it, a local-memory cache."""
    from django.core.cache import cache

    url = os.environ.get("CACHE_REDIS_URL") or os.environ.get("REDIS_URL")
    if url and _reachable(url):
        prefix = f"test-{uuid.uuid4().hex}"
        settings.CACHES = {"default": {"BACKEND": "kenpo_portal.cache.RedisCache",
                                       "LOCATION": url, "KEY_PREFIX": prefix}}
        yield
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
        return
    if url and REQUIRE_SERVICES:
        pytest.fail(f"Redis is required but unreachable at {url}")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    cache.clear()
    yield


@pytest.fixture
def household(db):
    return HouseholdFactory(symbol="1234", number="5678")


@pytest.fixture
def alice_person(household):
    person = PersonFactory(household=household, branch_number="00", family_name="佐藤", given_name="花子",
                           family_name_kana="サトウ", given_name_kana="ハナコ", sex="F", birth_date=date(1985, 11, 14))
    CardFactsFactory(person=person)
    return person


@pytest.fixture
def bob_person(household, alice_person):
    return PersonFactory(household=household, branch_number="02", relationship="child", family_name="佐藤",
                         given_name="一郎", family_name_kana="サトウ", given_name_kana="イチロウ",
                         birth_date=date(2005, 4, 2))


@pytest.fixture
def alice(alice_person):
    return verified_member(alice_person, "alice@example.jp")


@pytest.fixture
def bob(bob_person):
    return verified_member(bob_person, "bob@example.jp")


@pytest.fixture
def charlie_person(db):
    other = HouseholdFactory(symbol="1234", number="9999")
    return PersonFactory(household=other, family_name="鈴木", given_name="次郎", family_name_kana="スズキ",
                         given_name_kana="ジロウ")


@pytest.fixture
def charlie(charlie_person):
    return verified_member(charlie_person, "charlie@example.jp")


@functools.cache
def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis broker. Skipped when unreachable, unless KENPO_REQUIRE_SERVICES=1 (CI)."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if not _reachable(url):
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis is required but unreachable at {url}")
        pytest.skip("Redis is not running")
    return url


def reset_broker_connections(app) -> None:
    """Drop Celery's pooled broker connections so the next send uses the current URL."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps its own registry of pools keyed by URL: without clearing it, the
    # next test on the same URL gets the closed pool back ("Acquire on closed pool").
    from kombu import pools

    pools.reset()


@pytest.fixture
def eager_tasks(settings):
    """Tasks enqueued by the code under test run in-process (eager), even where REDIS_URL is
    set (CI). An app's conftest makes it autouse; ``celery_broker`` switches it off again
    for the tests that want the real broker."""
    from kenpo_portal.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def celery_broker(settings, redis_url):
    """Point the Celery app at the real Redis broker and turn eager mode off for this test."""
    from kenpo_portal.celery import app

    # A Redis database of its own, flushed around each test (KENPO_TEST_REDIS_DB lets
    # parallel test runs on one machine stay apart; bin/test picks one per checkout) —
    # only when it is empty or marked as this checkout's own (_flush_our_own).
    db_index = int(os.environ.get("KENPO_TEST_REDIS_DB", "15"))
    url = redis_url.rsplit("/", 1)[0] + f"/{db_index}"
    old = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    import redis

    client = redis.Redis.from_url(url)
    _flush_our_own(client, url)
    reset_broker_connections(app)
    yield url
    _flush_our_own(client, url)
    app.conf.broker_url, app.conf.task_always_eager = old
    reset_broker_connections(app)


# The mark this checkout's test runs leave in their Redis database: a database that holds
# keys but not this mark belongs to someone else and is never flushed.
_OWNER_KEY = "kenpo-test-run-owner"
_OWNER = str(Path(__file__).resolve().parent)


def _flush_our_own(client, url: str) -> None:
    owner = client.get(_OWNER_KEY)
    if owner is None and client.dbsize() > 0:
        pytest.fail(f"{url} holds keys that no test run of this checkout made: it is not flushed. "
                    "Set KENPO_TEST_REDIS_DB to an empty Redis database of your own.")
    if owner is not None and owner.decode() != _OWNER:
        pytest.fail(f"{url} belongs to the test runs of {owner.decode()}: set KENPO_TEST_REDIS_DB to another database.")
    client.flushdb()
    client.set(_OWNER_KEY, _OWNER)


@pytest.fixture
def celery_worker_process(celery_broker, transactional_db, settings, tmp_path):
    """Start real ``celery worker`` processes against Redis and the test database.

    Returns ``start(queues="default,pdf", concurrency=1) -> Popen``; every process is
    terminated at the end. The worker sees the test database because DATABASE_URL
    points at it (PostgreSQL) — the suite must run on PostgreSQL for this.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs the test database on PostgreSQL")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    processes = []

    def start(queues: str = "default,pdf", concurrency: int = 1, extra_env: dict | None = None):
        from tests import clock

        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": celery_broker,
               "CELERY_TASK_ALWAYS_EAGER": "0", "MEDIA_ROOT": settings.MEDIA_ROOT, **clock.environ(),
               **(extra_env or {})}
        # The log goes to a file: a pipe nobody reads until the end fills up and stalls
        # a chatty worker. ``proc.stdout.read()`` still gives it.
        log = tmp_path / f"worker-{len(processes)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.clock", "-A", "kenpo_portal", "worker", "-Q", queues,
                 "--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                env=env, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
            )
        proc.stdout = log.open()
        processes.append(proc)
        time.sleep(0.5)
        return proc

    yield start
    # Each worker leads a process group of its own (its pool's children included): one
    # SIGKILL ends them all at once. A warm shutdown took seconds per test, and a child
    # left behind by a test that killed only the parent would live on.
    for proc in processes:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=15)
        proc.stdout.close()
