"""/healthz tells the truth, fast: every part that fails is named, and the answer comes
within 2 s whatever hangs (a silent Redis, a database that never answers, no worker).

Nothing shared is stopped: the silent Redis is a redis-server of this test's own on
another loopback port (SIGSTOPped), the silent database a socket nobody answers on.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis
from django.db import connections
from django.urls import reverse

from conftest import reset_broker_connections
from kenpo_portal import health
from kenpo_portal.celery import WORKER_QUEUES, send_heartbeats
from kenpo_portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def timed_get(client, url):
    started = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_socket():
    """A port that accepts TCP connections (the kernel's backlog) but never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.fixture
def silent_redis(tmp_path):
    """A redis-server of our own on another loopback port, then frozen with SIGSTOP."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(50):
            try:
                redis.Redis.from_url(url, socket_timeout=0.2).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        os.kill(proc.pid, signal.SIGSTOP)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def point_celery_at(settings):
    olds = []

    def point(url):
        olds.append((celery_app.conf.broker_url, celery_app.conf.task_always_eager))
        celery_app.conf.broker_url = url
        celery_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER = False
        reset_broker_connections(celery_app)

    yield point
    for broker_url, eager in reversed(olds):
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = broker_url, eager
    reset_broker_connections(celery_app)


def test_no_worker_is_a_503_naming_beat_and_every_queue(client, celery_broker):
    response, seconds = timed_get(client, "/healthz")
    assert response.status_code == 503
    failed = response.json()["failed"]
    assert failed == {"beat": "no heartbeat", **{f"worker:{q}": "no heartbeat" for q in WORKER_QUEUES}}
    assert seconds < 2


def test_a_stale_heartbeat_is_a_503_saying_how_old(client, celery_broker, settings):
    settings.KENPO_HEARTBEAT_STALE_SECONDS = 600
    client_redis = redis.Redis.from_url(celery_broker)
    for part in ["beat", *(f"worker:{q}" for q in WORKER_QUEUES)]:
        client_redis.set(health.HEARTBEAT_KEY.format(part=part), repr(time.time()))
    client_redis.set(health.HEARTBEAT_KEY.format(part="worker:pdf"), repr(time.time() - 700))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert list(response.json()["failed"]) == ["worker:pdf"]
    assert response.json()["failed"]["worker:pdf"].startswith("last heartbeat 70")


def test_the_load_balancers_probe_ignores_the_workers(client, celery_broker):
    response = client.get(reverse("healthz-web"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "failed": {}}


@pytest.mark.services
@pytest.mark.slow
def test_beat_writes_workers_answer_and_healthz_turns_200(client, celery_broker, celery_worker_process):
    celery_worker_process(queues=",".join(WORKER_QUEUES), concurrency=1)
    assert client.get("/healthz").status_code == 503
    send_heartbeats()  # as beat does at its start, then each minute
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = client.get("/healthz")
        if response.status_code == 200:
            break
        time.sleep(0.5)
    assert response.json() == {"status": "ok", "failed": {}}


def test_a_silent_redis_is_a_503_within_two_seconds(client, point_celery_at, silent_redis, settings):
    point_celery_at(silent_redis)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": silent_redis}}
    response, seconds = timed_get(client, "/healthz")
    assert response.status_code == 503
    failed = response.json()["failed"]
    assert failed["broker"] in {"timeout", "TimeoutError"}
    assert "heartbeat" in failed
    assert seconds < 2
    # The load balancer's probe too.
    response, seconds = timed_get(client, "/healthz/web")
    assert (response.status_code, list(response.json()["failed"])) == (503, ["broker"])
    assert seconds < 2


def test_a_database_that_never_answers_is_a_503_within_two_seconds(client, silent_socket, monkeypatch):
    monkeypatch.setitem(connections.settings["default"], "HOST", "127.0.0.1")
    monkeypatch.setitem(connections.settings["default"], "PORT", str(silent_socket))
    if connections["default"].vendor != "postgresql":
        pytest.skip("the silent database is a PostgreSQL server that never answers")
    response, seconds = timed_get(client, "/healthz/web")
    assert response.status_code == 503
    assert list(response.json()["failed"]) == ["database"]
    assert seconds < 2


def test_a_database_that_is_down_is_a_503_within_two_seconds(client, monkeypatch):
    if connections["default"].vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    monkeypatch.setitem(connections.settings["default"], "HOST", "127.0.0.1")
    monkeypatch.setitem(connections.settings["default"], "PORT", str(free_port()))  # nothing listens there
    response, seconds = timed_get(client, "/healthz/web")
    assert (response.status_code, response.json()["failed"]) == (503, {"database": "OperationalError"})
    assert seconds < 2


def test_the_beat_healthcheck_command_exits_1_without_a_beat_heartbeat(celery_broker, capsys):
    assert health.main(["beat"]) == 1
    assert "beat: no heartbeat" in capsys.readouterr().out
    health.note_heartbeat("beat")
    assert health.main(["beat"]) == 0


@pytest.mark.parametrize(("allowed", "host"), [
    ("kenpo.example.jp,localhost", "kenpo.example.jp"),
    (".example.jp", "example.jp"),
    (" .kenpo.example.jp , other", "kenpo.example.jp"),
    ("*", "localhost"),
    ("", "localhost"),
])
def test_the_container_healthcheck_sends_a_host_the_site_accepts(allowed, host, settings):
    assert health.host_for_probe(allowed) == host
    settings.ALLOWED_HOSTS = [h.strip() for h in allowed.split(",") if h.strip()] or ["localhost"]
    from django.http.request import validate_host

    assert validate_host(host, settings.ALLOWED_HOSTS)
