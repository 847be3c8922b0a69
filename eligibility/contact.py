"""The society's contact details (name, phone, hours, address) for every page's footer
and every "contact the society" sentence: one place, one query per process a minute."""

import time

from django.db import DatabaseError
from django.db.models.signals import post_save

from .models import Society

_TTL = 60.0
_cached: tuple[float, Society | None] | None = None


def society() -> Society | None:
    """The society this portal serves (the first one: a portal serves one society)."""
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > _TTL:
        try:
            _cached = (now, Society.objects.order_by("pk").first())
        except DatabaseError:  # a footer never breaks a page (a database not migrated yet, or down)
            return None
    return _cached[1]


def forget(**kwargs) -> None:
    global _cached
    _cached = None


def context(request) -> dict:
    """Template context processor: ``society`` (lazily: only pages that show it ask)."""
    from django.utils.functional import SimpleLazyObject

    return {"society": SimpleLazyObject(society)}


def connect() -> None:
    post_save.connect(forget, sender=Society, dispatch_uid="contact-forget-society")
