"""TOTP secrets: encrypted at rest, never shown in the admin, revocable (audited), not
addable or editable for someone else."""

import ast
import importlib
import os
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from audit.models import AuditEntry
from core.adapters import MFAAdapter
from staff.roles import CLERK, MANAGER
from staff.testing import PASSWORD, login_with_mfa, make_staff, totp_code

pytestmark = pytest.mark.django_db


def _totp(user) -> Authenticator:
    return Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)


def test_a_totp_secret_is_stored_encrypted(db):
    user = make_staff(role=CLERK, email="c@kenpo.example.jp")
    stored = _totp(user).data["secret"]
    assert user.totp_secret not in stored
    assert MFAAdapter().decrypt(stored) == user.totp_secret


def test_a_login_with_the_real_code_works_with_the_encrypted_secret(client):
    user = make_staff(role=CLERK, email="c@kenpo.example.jp")
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code(user)})
    assert client.get("/admin/").status_code == 200


def test_a_wrong_key_fails_loudly_not_as_a_wrong_code(settings, db):
    user = make_staff(role=CLERK, email="c@kenpo.example.jp")
    settings.KENPO_MFA_ENCRYPTION_KEYS = ["another-key"]
    with pytest.raises(ImproperlyConfigured):
        MFAAdapter().decrypt(_totp(user).data["secret"])


def test_keys_rotate_the_first_encrypts_every_one_decrypts(settings, db):
    settings.KENPO_MFA_ENCRYPTION_KEYS = ["old-key"]
    token = MFAAdapter().encrypt("JBSWY3DPEHPK3PXP")
    settings.KENPO_MFA_ENCRYPTION_KEYS = ["new-key", "old-key"]
    assert MFAAdapter().decrypt(token) == "JBSWY3DPEHPK3PXP"


def test_the_key_defaults_to_one_derived_from_the_secret_key():
    if os.environ.get("KENPO_MFA_ENCRYPTION_KEY"):
        pytest.skip("a key is set in this environment")
    assert settings.KENPO_MFA_ENCRYPTION_KEYS == [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]


def test_the_migration_encrypts_secrets_stored_in_clear(db):
    user = make_staff(role=CLERK, email="c@kenpo.example.jp")
    Authenticator.objects.filter(pk=_totp(user).pk).update(data={"secret": user.totp_secret})
    codes = Authenticator.objects.create(user=user, type=Authenticator.Type.RECOVERY_CODES,
                                         data={"seed": "ab" * 40, "used_mask": 0, "migrated_codes": ["12345678"]})
    migration = importlib.import_module("staff.migrations.0002_encrypt_mfa_secrets")
    apps = MigrationExecutor(connection).loader.project_state(("staff", "0002_encrypt_mfa_secrets")).apps
    migration.encrypt_secrets(apps, None)
    migration.encrypt_secrets(apps, None)  # twice: nothing encrypted twice
    adapter = MFAAdapter()
    assert adapter.decrypt(_totp(user).data["secret"]) == user.totp_secret
    codes.refresh_from_db()
    assert adapter.decrypt(codes.data["seed"]) == "ab" * 40
    assert [adapter.decrypt(c) for c in codes.data["migrated_codes"]] == ["12345678"]
    assert codes.data["used_mask"] == 0


# --- the admin -------------------------------------------------------------------------------------


@pytest.fixture
def manager_client(client):
    login_with_mfa(client, make_staff(role=MANAGER, email="boss@kenpo.example.jp"))
    return client


def test_staff_see_that_an_authenticator_exists_but_never_its_secret(manager_client):
    other = make_staff(role=CLERK, email="c@kenpo.example.jp")
    device = _totp(other)
    listing = manager_client.get(reverse("admin:mfa_authenticator_changelist")).content.decode()
    assert "c@kenpo.example.jp" in listing or "c" in listing
    detail = manager_client.get(reverse("admin:mfa_authenticator_change", args=[device.pk])).content.decode()
    for secret in (other.totp_secret, device.data["secret"]):
        assert secret not in listing and secret not in detail


def test_nobody_adds_or_edits_someone_elses_authenticator(manager_client):
    other = make_staff(role=CLERK, email="c@kenpo.example.jp")
    device = _totp(other)
    assert manager_client.get(reverse("admin:mfa_authenticator_add")).status_code == 403
    response = manager_client.post(reverse("admin:mfa_authenticator_change", args=[device.pk]),
                                   {"user": other.pk, "type": "totp", "data": '{"secret": "AAAA"}'})
    assert response.status_code == 403
    device.refresh_from_db()
    assert MFAAdapter().decrypt(device.data["secret"]) == other.totp_secret


def test_a_manager_revokes_an_authenticator_and_it_is_audited(manager_client):
    other = make_staff(role=CLERK, email="c@kenpo.example.jp")
    device = _totp(other)
    Authenticator.objects.create(user=other, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "x", "used_mask": 0})
    response = manager_client.post(reverse("admin:mfa_authenticator_delete", args=[device.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=other).exists()  # the recovery codes went with the last device
    entry = AuditEntry.objects.get(action="change", object_type="mfa.Authenticator")
    assert entry.object_id == str(device.pk) and entry.actor.email == "boss@kenpo.example.jp"


def test_a_clerk_cannot_revoke(client):
    login_with_mfa(client, make_staff(role=CLERK, email="c2@kenpo.example.jp"))
    other = make_staff(role=CLERK, email="c@kenpo.example.jp")
    response = client.post(reverse("admin:mfa_authenticator_delete", args=[_totp(other).pk]), {"post": "yes"})
    assert response.status_code == 403


def test_the_test_helpers_use_no_allauth_internals():
    tree = ast.parse((Path(settings.BASE_DIR) / "staff" / "testing.py").read_text())
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    assert not [m for m in modules if ".internal" in m]
