"""The plumbing is real: settings, the embedded default, /healthz, the admin login,
and a Celery worker on Redis."""

import os
import re
import runpy
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from conftest import reset_broker_connections
from kenpo_portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def _bare_env(**extra) -> dict:
    """The environment of a newcomer's machine: none of our variables set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "EMAIL_", "DJANGO_", "CELERY_", "KENPO_"))}
    env.update(extra)
    return env


def test_the_embedded_default_passes_check():
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=_bare_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_embedded_default_uses_sqlite_eager_tasks_and_console_mail():
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'kenpo_portal.settings'); django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, s.DEBUG, s.LANGUAGE_CODE, s.TIME_ZONE);"
        "from django.test import Client; r = Client().get('/'); print(r.status_code, 'マイナ保険証' in r.content.decode())"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=_bare_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    config, page = result.stdout.strip().splitlines()[-2:]
    assert config == "django.db.backends.sqlite3 True django.core.mail.backends.console.EmailBackend True ja Asia/Tokyo"
    assert page == "200 True"


def test_production_settings_pass_the_deploy_check():
    env = _bare_env(DJANGO_ENV="production", DJANGO_SECRET_KEY="x" * 20 + uuid.uuid4().hex + uuid.uuid4().hex,
                    DJANGO_ALLOWED_HOSTS="kenpo.example.jp")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = _bare_env(DJANGO_ENV="production", DJANGO_ALLOWED_HOSTS="kenpo.example.jp")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_suite_runs_on_postgresql_in_ci():
    if os.environ.get("KENPO_REQUIRE_SERVICES") != "1":
        pytest.skip("only CI insists on PostgreSQL")
    assert connection.vendor == "postgresql"


def _settings_for(monkeypatch, **environment) -> dict:
    """The settings module as it reads ``environment`` (none of our variables besides),
    evaluated afresh in this process: what a server started with it would get."""
    for name in list(os.environ):
        if name.startswith(("DATABASE_", "REDIS_", "EMAIL_", "DJANGO_", "CELERY_", "KENPO_")):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "kenpo_portal" / "settings.py"))


def test_persistent_connections_with_health_checks_are_on_for_postgresql(monkeypatch):
    database = _settings_for(monkeypatch, DATABASE_URL="postgres://kenpo@db.example:5432/kenpo")["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["CONN_MAX_AGE"] == 600
    assert database["CONN_HEALTH_CHECKS"] is True
    database = _settings_for(monkeypatch, DATABASE_URL="postgres://kenpo@db.example:5432/kenpo",
                             DATABASE_CONN_MAX_AGE="60")["DATABASES"]["default"]
    assert database["CONN_MAX_AGE"] == 60


def test_the_embedded_sqlite_database_waits_for_a_lock_instead_of_failing(monkeypatch):
    database = _settings_for(monkeypatch)["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["OPTIONS"]["timeout"] == 20
    assert "CONN_HEALTH_CHECKS" not in database


@pytest.mark.django_db
def test_home_page_explains_the_portal_in_japanese(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "本文へ移動" in html  # the skip link
    assert "マイナ保険証" in html


@pytest.mark.django_db
def test_home_page_switches_to_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    assert '<html lang="en">' in response.content.decode()


@pytest.mark.django_db
def test_healthz_web_answers_200_when_database_and_broker_answer(client, celery_broker):
    # The full /healthz also wants beat's and the workers' heartbeats: tests/test_health.py.
    response = client.get("/healthz/web")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "failed": {}}


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_broker_when_it_is_unreachable(client, settings):
    old = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    celery_app.conf.task_always_eager = False
    reset_broker_connections(celery_app)
    try:
        response = client.get("/healthz/web")
    finally:
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = old
        reset_broker_connections(celery_app)
    assert response.status_code == 503
    assert list(response.json()["failed"]) == ["broker"]


@pytest.mark.django_db
def test_the_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_the_admin_index_sends_anonymous_visitors_to_the_allauth_login(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_login_page_reads_in_japanese(client):
    html = client.get(reverse("account_login")).content.decode()
    assert "ログイン" in html
    assert "メールアドレス" in html


@pytest.mark.services
def test_a_real_worker_on_redis_runs_a_task_end_to_end(celery_worker_process, celery_broker):
    import redis

    worker = celery_worker_process(queues="default")
    key = f"ping-{uuid.uuid4().hex}"
    celery_app.send_task("kenpo_portal.ping", kwargs={"key": key}, queue="default")
    client = redis.Redis.from_url(celery_broker)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not client.exists(f"kenpo:1:{key}"):
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(0.2)
    assert client.exists(f"kenpo:1:{key}"), "the worker did not run the task"


def test_tasks_are_json_only_acked_late_with_time_limits():
    conf = celery_app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_time_limit and conf.task_soft_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


def test_the_beat_schedule_is_declared_once_in_code():
    # Every scheduled job names a task that exists (a typo would never run, silently)…
    celery_app.loader.import_default_modules()
    schedule = celery_app.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} == {
        "reminders.tasks.daily_scan", "reminders.tasks.send_pending", "staff.tasks.refresh_dashboard",
        "certificates.tasks.void_ended_eligibility", "certificates.tasks.resume_stalled_batches",
        "certificates.tasks.make_daily_print_files", "certificates.tasks.propose_monthly_run",
        "certificates.tasks.remind_unconfirmed_packets",
        "notices.tasks.announce_changed",
        "imports.tasks.expire_runs", "imports.tasks.resume_stalled", "imports.tasks.clean_up_confirmed_runs",
        "exports.tasks.delete_old_files", "kenpo_portal.sweep_unreferenced_files",
        "kenpo_portal.clear_sessions", "kenpo_portal.heartbeat",
    }
    assert all(entry["task"] in celery_app.tasks for entry in schedule.values())
    # …and kenpo_portal/celery.py is the only place that declares one: no second
    # schedule in another module, no database scheduler that staff could edit.
    sources = [path for folder in ROOT.iterdir() if folder.is_dir() and not folder.name.startswith((".", "var"))
               for path in folder.rglob("*.py") if "tests" not in path.parts]
    declaring = sorted(
        str(path.relative_to(ROOT)) for path in sources
        if re.search(r"beat_schedule\s*=|BEAT_SCHEDULE|beat_scheduler|django_celery_beat", path.read_text(encoding="utf-8"))
    )
    assert declaring == ["kenpo_portal/celery.py"]
    assert celery_app.conf.beat_scheduler == "celery.beat:PersistentScheduler"


def test_only_the_test_run_hashes_passwords_fast(monkeypatch, settings):
    # The root conftest's MD5 keeps the suite fast; a server gets Django's PBKDF2.
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    production = _settings_for(monkeypatch, DJANGO_ENV="production", DJANGO_SECRET_KEY="x" * 50,
                               DJANGO_ALLOWED_HOSTS="kenpo.example.jp")
    assert "MD5" not in str(production.get("PASSWORD_HASHERS", ""))
    from django.conf import global_settings

    assert global_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"


@pytest.mark.django_db
def test_the_nightly_housekeeping_clears_expired_sessions_only():
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from kenpo_portal.celery import clear_sessions

    now = timezone.now()
    Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(minutes=1))
    Session.objects.create(session_key="live", session_data="", expire_date=now + timedelta(hours=1))
    clear_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def test_the_tests_never_flush_a_redis_database_they_did_not_make(celery_broker):
    import redis

    from conftest import _OWNER_KEY, _flush_our_own

    client = redis.Redis.from_url(celery_broker)
    client.delete(_OWNER_KEY)
    client.set("someone-elses", "data")
    with pytest.raises(pytest.fail.Exception, match="holds keys that no test run of this checkout made"):
        _flush_our_own(client, celery_broker)
    client.set(_OWNER_KEY, "/another/checkout")
    with pytest.raises(pytest.fail.Exception, match="belongs to the test runs of /another/checkout"):
        _flush_our_own(client, celery_broker)
    assert client.get("someone-elses") == b"data"
    client.delete(_OWNER_KEY)
    client.delete("someone-elses")


def test_the_favicon_is_served_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_a_filemail_url_names_an_absolute_folder(monkeypatch):
    # .env.example writes e-mail to files until SMTP is set: /app/var/mail, the volume.
    settings = _settings_for(monkeypatch, EMAIL_URL="filemail:///app/var/mail")
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert settings["EMAIL_FILE_PATH"] == "/app/var/mail"
