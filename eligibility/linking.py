"""Linking a login to a person with a one-time activation code (連携コード).

Staff issue codes in the admin; the society prints each on a postcard. Codes are
random, single use, expire, and only their hash is stored.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import ActivationCode, MemberLink, Person, normalise_digits

# Unambiguous characters only (no 0/O, 1/I/L): read aloud and typed by elderly members.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
# A dependent may link a login of their own from this age (younger ones are shown on
# the insured person's dashboard).
ADULT_DEPENDENT_AGE = 18


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def issue_activation_code(*, person: Person, created_by=None) -> str:
    """Create a code for ``person`` and return it (formatted ``XXXX-XXXX-XXXX``), once."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    while code.isdigit():  # twelve digits would be refused as a My Number (R9)
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    ActivationCode.objects.create(
        person=person,
        code_hash=hash_code(code),
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=settings.KENPO_ACTIVATION_CODE_VALID_DAYS),
    )
    return format_code(code)


class LinkRefused(Exception):
    """The details did not match a usable code. Deliberately says no more than that."""


def _matching_code(*, symbol: str, number: str, branch_number: str, birth_date, code: str):
    return (
        ActivationCode.objects.select_for_update()
        .select_related("person__household")
        .filter(
            code_hash=hash_code(code),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            person__household__symbol=normalise_digits(symbol),
            person__household__number=normalise_digits(number),
            person__branch_number=(branch_number or "").strip().zfill(2),
            person__birth_date=birth_date,
        )
        .first()
    )


@transaction.atomic
def link_member(*, user, symbol: str, number: str, branch_number: str, birth_date, code: str) -> Person:
    """Link ``user`` to the person the details and the activation code name; use up the code.

    Raises ``LinkRefused`` when anything does not match (which field is never told),
    the code is used or expired, or the person has no eligibility today.
    A dependent under 18 cannot link a login of their own: the insured person's
    login shows them.
    """
    if MemberLink.objects.filter(user=user).exists():
        raise LinkRefused("already linked")
    activation = _matching_code(
        symbol=symbol, number=number, branch_number=branch_number, birth_date=birth_date, code=code
    )
    if activation is None:
        raise LinkRefused("no match")
    person = activation.person
    today = timezone.localdate()
    if not person.is_eligible_on(today):
        raise LinkRefused("no eligibility")
    if not person.is_insured_person and person.age_on(today) < ADULT_DEPENDENT_AGE:
        raise LinkRefused("minor dependent")
    # Single use even under a race: only the request that flips used_at links.
    claimed = ActivationCode.objects.filter(pk=activation.pk, used_at__isnull=True).update(
        used_at=timezone.now(), used_by=user
    )
    if claimed != 1:
        raise LinkRefused("code used")
    MemberLink.objects.create(user=user, person=person)
    return person
