"""The one place that writes an audit entry.

The audit log is written by every app (eligibility, certificates, imports …), so it
sits below ``staff`` and never imports it: the staff app tells it how a login's role
is named (``register_roles``, from ``StaffConfig.ready``).
"""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.http import HttpRequest

from core.network import client_ip

from .models import AuditEntry

__all__ = ["EMPLOYER", "login_identifier", "record", "record_each", "record_persons", "register_roles",
           "role_label", "role_of"]

_roles: dict = {"role_of": None, "labels": {}}


def register_roles(*, role_of: Callable, labels: dict) -> None:
    """How a staff login's role is named (``role_of(user) -> str | None``) and shown to members."""
    _roles.update(role_of=role_of, labels=dict(labels))


def role_label(role: str):
    """The words a member reads for ``role`` (e.g. 職員（閲覧）), or None."""
    return _roles["labels"].get(role)


# An employer contact's login (事業所担当者, RULES.md R12): members read 「勤務先の担当者」.
EMPLOYER = "employer"


def _is_employer_contact(user) -> bool:
    # The reverse one-to-one of eligibility.EmployerContact (read by name: the log sits below it).
    try:
        return user.employer_contact is not None
    except ObjectDoesNotExist:
        return False


def role_of(user) -> str:
    """The role name a member may be shown (閲覧/担当者/管理者), never the person."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    if not (user.is_staff or user.is_superuser):
        return EMPLOYER if _is_employer_contact(user) else "member"
    if _roles["role_of"] is None:
        raise ImproperlyConfigured("No staff roles registered with audit.services.register_roles (is 'staff' installed?)")
    return _roles["role_of"](user) or "staff"


def login_identifier(typed) -> str:
    """What a failed login's identifier is kept as: the address when it is a well-formed
    e-mail of an existing login, else a hash (it may be a password typed into the wrong
    box, or a My Number)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from core.mynumber import contains_my_number

    text = str(typed or "").strip()[:254]
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError:
        known = False
    else:
        known = not contains_my_number(text) and (
            EmailAddress.objects.filter(email__iexact=text).exists()
            or get_user_model().objects.filter(email__iexact=text).exists()
        )
    if known:
        return text
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:login:{text}".encode()).hexdigest()[:16]
    return f"hash:{digest}"


def _household_id(household) -> int | None:
    """A household or its id, as the entry keeps it."""
    return getattr(household, "pk", household)


def record(
    *,
    action: str,
    request: HttpRequest | None = None,
    actor=None,
    obj=None,
    household=None,
    summary: str = "",
    details: dict | None = None,
    row_count: int | None = None,
) -> AuditEntry:
    """Write one audit entry. ``obj`` names the object; ``household`` (a household or its id)
    lets members see it;
    ``row_count``: how many rows a list or export showed (kept in ``details["rows"]``)."""
    if actor is None and request is not None:
        actor = request.user if request.user.is_authenticated else None
    if household is None and obj is not None:
        household = getattr(obj, "audit_household", None)
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        actor_role=role_of(actor),
        ip_address=client_ip(request),
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        household_id=_household_id(household),
        summary=summary[:255],
        details={**(details or {}), **({"rows": row_count} if row_count is not None else {})},
    )


def record_persons(*, action: str, request: HttpRequest | None, persons, summary: str, details: dict | None = None) -> int:
    """One entry per person read or changed at once (a page of a list): each shows in that
    person's household's access log. ``persons``: (person id, household id) pairs."""
    subjects = (("eligibility.Person", person_id, household_id) for person_id, household_id in persons)
    return _record_many(action=action, request=request, subjects=subjects, summary=summary, details=details)


def record_each(*, action: str, request: HttpRequest, objs, summary: str, details: dict | None = None) -> int:
    """One entry per object (each with its household, so each member sees it) in one INSERT:
    a bulk action on many persons is recorded person by person, never as one entry without a subject."""
    subjects = ((obj._meta.label, obj.pk, _household_id(getattr(obj, "audit_household", None))) for obj in objs)
    return _record_many(action=action, request=request, subjects=subjects, summary=summary, details=details)


def _record_many(*, action: str, request: HttpRequest | None, subjects, summary: str, details: dict | None) -> int:
    """The entries of ``record_persons`` and ``record_each``: (object type, id, household id) each."""
    actor = request.user if request is not None and request.user.is_authenticated else None
    role, ip = role_of(actor), client_ip(request)
    entries = [
        AuditEntry(action=action, actor=actor, actor_role=role, ip_address=ip, object_type=object_type,
                   object_id=str(object_id), household_id=household_id, summary=summary[:255], details=details or {})
        for object_type, object_id, household_id in subjects
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)
