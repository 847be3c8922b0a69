"""Encrypt the MFA secrets stored before core.adapters.MFAAdapter encrypted them.

TOTP secrets (``data["secret"]``), recovery-code seeds (``data["seed"]``) and any
migrated recovery codes (``data["migrated_codes"]``) were kept in clear. The cipher
is written out here (Fernet, key = SHA-256 of "kenpo-portal.mfa:" + each key of
KENPO_MFA_ENCRYPTION_KEYS, base64) so this migration means the same thing whatever
the code becomes. A value that already decrypts is left alone: safe to re-run.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import migrations


def _cipher() -> MultiFernet:
    return MultiFernet([
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"kenpo-portal.mfa:{key}".encode()).digest()))
        for key in settings.KENPO_MFA_ENCRYPTION_KEYS
    ])


def _is_encrypted(cipher: MultiFernet, value: str) -> bool:
    try:
        cipher.decrypt(value.encode())
    except InvalidToken:
        return False
    return True


def _convert(apps, *, encrypt: bool) -> None:
    cipher = _cipher()

    def convert(value: str) -> str:
        if encrypt:
            return value if _is_encrypted(cipher, value) else cipher.encrypt(value.encode()).decode()
        return cipher.decrypt(value.encode()).decode() if _is_encrypted(cipher, value) else value

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=("totp", "recovery_codes")).iterator():
        data = dict(authenticator.data)
        for key in ("secret", "seed"):
            if isinstance(data.get(key), str):
                data[key] = convert(data[key])
        if isinstance(data.get("migrated_codes"), list):
            data["migrated_codes"] = [convert(code) for code in data["migrated_codes"]]
        if data != authenticator.data:
            authenticator.data = data
            authenticator.save(update_fields=["data"])


def encrypt_secrets(apps, schema_editor):
    _convert(apps, encrypt=True)


def decrypt_secrets(apps, schema_editor):
    _convert(apps, encrypt=False)


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_roles"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_secrets, decrypt_secrets)]
