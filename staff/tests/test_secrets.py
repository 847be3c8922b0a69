"""Secrets in operation (issue 24, 10): weak keys refused at start, a restored database
under another MFA key is a clear page (not a 500), and the key rotates by one command."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.urls import reverse

from core.adapters import MFAAdapter
from core.secrets import weakness
from staff.roles import CLERK
from staff.testing import PASSWORD, make_staff, totp_code

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parents[2]
GOOD = "Qm3v9-" + "aZ0x_Lk7PpR2sT8uW4yB6dF1gH5jN3cE" * 2


def _env_example_key() -> str:
    line = next(line for line in (BASE_DIR / ".env.example").read_text().splitlines()
                if line.startswith("DJANGO_SECRET_KEY="))
    return line.split("=", 1)[1]


def _production(*args: str, key: str, **extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KENPO_"))}
    env.update(DJANGO_ENV="production", DJANGO_SECRET_KEY=key, DJANGO_ALLOWED_HOSTS="kenpo.example.jp", **extra)
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("key", ["short-but-random-Zq81", "x" * 64, "dev-only-insecure-key-change-me"])
def test_weak_secret_keys_are_refused(key):
    assert weakness(key, min_length=50)


def test_the_env_example_placeholder_fails_check_deploy_and_the_server_does_not_start():
    key = _env_example_key()
    assert weakness(key, min_length=50) == "a published placeholder"
    check = _production("manage.py", "check", "--deploy", key=key)
    assert check.returncode != 0 and "kenpo.E001" in check.stderr + check.stdout and key not in check.stderr
    start = _production("-c", "import kenpo_portal.wsgi", key=key)
    assert start.returncode != 0 and "Refusing to start: DJANGO_SECRET_KEY" in start.stderr


def test_a_short_mfa_key_is_refused_too():
    start = _production("-c", "import kenpo_portal.wsgi", key=GOOD, KENPO_MFA_ENCRYPTION_KEY="short")
    assert start.returncode != 0 and "KENPO_MFA_ENCRYPTION_KEY (#1) is shorter" in start.stderr


def test_a_good_key_starts():
    start = _production("-c", "import kenpo_portal.wsgi", key=GOOD)
    assert start.returncode == 0, start.stderr


def test_a_database_restored_under_another_key_gives_a_clear_page_not_a_500(client, settings, caplog):
    user = make_staff(role=CLERK, email="c@kenpo.example.jp")
    settings.KENPO_MFA_ENCRYPTION_KEYS = ["another-key-restored-elsewhere-0123456789"]
    client.raise_request_exception = False
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(user)})
    assert response.status_code == 503
    assert "KENPO_MFA_ENCRYPTION_KEY" in response.content.decode()
    assert "Traceback" not in caplog.text and "rotate_mfa_key" in caplog.text


def test_the_rotation_command_re_encrypts_with_the_new_key(client, settings):
    user = make_staff(role=CLERK, email="c@kenpo.example.jp")
    old = list(settings.KENPO_MFA_ENCRYPTION_KEYS)
    settings.KENPO_MFA_ENCRYPTION_KEYS = ["the-new-key-0123456789-abcdefghijklmnop", *old]
    out = io.StringIO()
    call_command("rotate_mfa_key", "--check", stdout=out)
    assert "would re-encrypt: 1" in out.getvalue()
    call_command("rotate_mfa_key", stdout=out)
    assert "re-encrypted: 1" in out.getvalue()
    settings.KENPO_MFA_ENCRYPTION_KEYS = ["the-new-key-0123456789-abcdefghijklmnop"]  # the old key is gone
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert MFAAdapter().decrypt(stored) == user.totp_secret


def test_the_rotation_command_names_what_no_key_reads_and_fails(settings):
    user = make_staff(role=CLERK, email="c@kenpo.example.jp")
    settings.KENPO_MFA_ENCRYPTION_KEYS = ["unrelated-key-0123456789-abcdefghijklmn"]
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("rotate_mfa_key", stdout=io.StringIO(), stderr=err)
    assert f"user pk={user.pk}" in err.getvalue() and user.totp_secret not in err.getvalue()


def test_seed_demo_refuses_production_settings_unless_forced(settings):
    from django.core.management.base import CommandError

    from eligibility.models import Society

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="--allow-production"):
        call_command("seed_demo", persons=4)
    assert not Society.objects.exists()
    call_command("seed_demo", persons=4, allow_production=True, stdout=io.StringIO())
    assert Society.objects.exists()
