"""``{{ some_date|wareki }}`` → 令和7年12月2日 (2025-12-02); ``|wareki_only`` → 令和7年12月2日.

Loaded as a template builtin (settings.TEMPLATES), so no ``{% load %}`` is needed.
"""

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from core.wareki import format_member_date, format_wareki

register = template.Library()


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value if isinstance(value, date) else None


@register.filter
def wareki(value: object) -> str:
    day = _as_date(value)
    if day is None:
        return ""
    try:
        language: str = get_language() or "ja"
        return format_member_date(day, language)
    except ValueError:  # before the Meiji era: the Western date alone, never a 500
        return day.isoformat()


@register.filter
def wareki_only(value: object) -> str:
    day = _as_date(value)
    if day is None:
        return ""
    try:
        return format_wareki(day)
    except ValueError:
        return day.isoformat()
