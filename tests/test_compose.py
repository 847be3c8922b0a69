"""docker-compose.yml, read (there is no Docker here; bin/rehearse runs its commands):
every value from .env, only Caddy published, one worker per queue class."""

import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from kenpo_portal.celery import WORKER_QUEUES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
rehearse = runpy.run_path(str(ROOT / "bin" / "rehearse.py"))
SERVICES = rehearse["compose_services"](COMPOSE)


def service_block(name: str) -> str:
    match = re.search(rf"^  {re.escape(name)}:\n((?:    .*\n|\n)*)", COMPOSE, re.MULTILINE)
    assert match, name
    return match[1]


def test_only_caddy_publishes_ports_and_gunicorn_is_not_reachable_from_outside():
    published = [name for name in SERVICES if "\n    ports:" in "\n" + service_block(name)]
    assert published == ["caddy"]
    assert "expose:" in service_block("web")


def test_no_secret_or_url_is_written_in_the_compose_file():
    assert "kenpo:kenpo" not in COMPOSE
    for variable in ("DJANGO_SECRET_KEY", "KENPO_MFA_ENCRYPTION_KEY", "REDIS_URL", "DJANGO_ENV", "MEDIA_ROOT", "EMAIL_URL"):
        assert not re.search(rf"^\s+{variable}:", COMPOSE, re.MULTILINE), variable
    # The one value put together here is made of .env's parts.
    assert "DATABASE_URL: postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@postgres:5432/${POSTGRES_DB}" in COMPOSE


def test_each_queue_class_has_its_own_worker_and_every_routed_queue_a_worker():
    consumed = {}
    for name, service in SERVICES.items():
        if " worker " in service.get("command", ""):
            consumed[name] = re.search(r"-Q (\S+)", service["command"])[1].split(",")
    assert consumed == {"worker-default": ["default"], "worker-pdf": ["pdf"], "worker-imports": ["imports"]}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert routed == set(WORKER_QUEUES) == {q for queues in consumed.values() for q in queues}


def test_every_long_running_service_has_a_healthcheck():
    for name in ("web", "worker-default", "worker-pdf", "worker-imports", "beat", "postgres", "redis"):
        assert "test" in SERVICES[name], name


def test_the_env_example_sources_in_bash_and_names_every_variable_the_compose_file_asks():
    env = rehearse["sourced_env_example"]()
    assert env["DEFAULT_FROM_EMAIL"] == "けんぽポータル <no-reply@kenpo.example.jp>"
    asked = set(re.findall(r"\$\{(\w+)", COMPOSE)) | set(re.findall(r"\{\$(\w+)", (ROOT / "Caddyfile").read_text()))
    local_only = {"KENPO_BEAT_STATE_FILE", "KENPO_HTTP_PORT", "KENPO_HTTPS_PORT", "CADDY_HTTP_PORT", "CADDY_HTTPS_PORT",
                  "CADDY_ADMIN", "KENPO_UPSTREAM"}  # defaults that fit the containers; bin/rehearse sets them
    assert asked - local_only <= set(env), asked - local_only - set(env)


def test_the_caddyfile_is_valid_when_caddy_is_installed(tmp_path):
    caddy = shutil.which("caddy")
    if not caddy:
        pytest.skip("caddy is not installed (CI installs it)")
    result = subprocess.run([caddy, "validate", "--config", "Caddyfile", "--adapter", "caddyfile"], cwd=ROOT,
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "CADDY_ADMIN": "off",
                                                                 "KENPO_UPSTREAM": "127.0.0.1:8000",
                                                                 "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
                                                                 "XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
