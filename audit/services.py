"""The one place that writes an audit entry."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from .models import AuditEntry


def role_of(user) -> str:
    """The role name a member may be shown (閲覧/担当者/管理者), never the person."""
    from staff.roles import role_of as staff_role

    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    if not (user.is_staff or user.is_superuser):
        return "member"
    return staff_role(user) or "staff"


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address. X-Forwarded-For is believed only for the number of
    reverse proxies the deployment declares (KENPO_TRUSTED_PROXY_COUNT, default 0):
    a client can write anything into that header itself."""
    if request is None:
        return None
    proxies = getattr(settings, "KENPO_TRUSTED_PROXY_COUNT", 0)
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if proxies and forwarded:
        # Each trusted proxy appended the address it saw; take the one the outermost saw.
        address = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    else:
        address = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def record(
    *,
    action: str,
    request: HttpRequest | None = None,
    actor=None,
    obj=None,
    household=None,
    summary: str = "",
    details: dict | None = None,
) -> AuditEntry:
    """Write one audit entry. ``obj`` names the object; ``household`` lets members see it."""
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
        household=household,
        summary=summary[:255],
        details=details or {},
    )
