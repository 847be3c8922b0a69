"""Linking a login to a person with a one-time activation code (連携コード).

Staff issue codes in the admin; the society prints each on a postcard. Codes are
random, single use, expire, and only their hash is stored.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import ActivationCode, Person

# Unambiguous characters only (no 0/O, 1/I/L): read aloud and typed by elderly members.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def issue_activation_code(*, person: Person, created_by=None) -> str:
    """Create a code for ``person`` and return it (formatted ``XXXX-XXXX-XXXX``), once."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    ActivationCode.objects.create(
        person=person,
        code_hash=hash_code(code),
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=settings.KENPO_ACTIVATION_CODE_VALID_DAYS),
    )
    return format_code(code)
