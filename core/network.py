"""The client's address, the one way the whole site reads it (audit log, rate limits)."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address. X-Forwarded-For is believed only for the number of
    reverse proxies the deployment declares (KENPO_TRUSTED_PROXY_COUNT, default 0):
    a client can write anything into that header itself. allauth's rate limits use
    this too (``core.adapters.AccountAdapter.get_client_ip``)."""
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
