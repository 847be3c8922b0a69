"""Era dates for the bilingual reminder e-mail, independent of the active language."""

from django import template

from core.wareki import format_member_date

register = template.Library()


@register.filter
def wareki_ja(value) -> str:
    return format_member_date(value, "ja") if value else ""


@register.filter
def wareki_en(value) -> str:
    return format_member_date(value, "en") if value else ""
