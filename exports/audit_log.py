"""The audit log (閲覧・操作・ログインの記録) as a CSV export job, for the 管理者.

The job reads the same filters as the log's admin list (操作, 役割, 対象の種類, 日時:
the query string staff had on screen), parsed here: no admin page is rebuilt. A filter
it cannot read sends staff back to the list.
"""

from datetime import datetime

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.models import AuditEntry

from .registry import Exporter, register

CSV_HEADER = ["日時", "操作", "操作者", "役割", "接続元", "対象の種類", "対象ID", "世帯ID", "内容"]
FILTERS = {"action__exact": "action", "actor_role": "actor_role", "object_type": "object_type"}


def _moment(text: str) -> datetime:
    """A bound of the 日時 filter, as the admin writes it (a date, or a date and time)."""
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise ValueError(text)
        moment = datetime(day.year, day.month, day.day)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _queryset(*, params: dict) -> QuerySet[AuditEntry]:
    query = QueryDict(params.get("query", ""))
    entries = AuditEntry.objects.select_related("actor")
    for key, field in FILTERS.items():
        if query.get(key):
            entries = entries.filter(**{field: query[key]})
    for key, lookup in (("at__gte", "at__gte"), ("at__lt", "at__lt")):
        if query.get(key):
            entries = entries.filter(**{lookup: _moment(query[key])})
    return entries


def readable(*, params: dict, user) -> bool:
    try:
        _queryset(params=params)
    except (ValueError, OverflowError):
        return False
    return True


def count(*, params: dict, user) -> int:
    return _queryset(params=params).count()


def rows(*, params: dict, user):
    for entry in _queryset(params=params).order_by("at", "pk").iterator(chunk_size=5000):
        yield [
            timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"), entry.get_action_display(),
            entry.actor.email if entry.actor else "", entry.role_words, entry.ip_address or "",
            entry.object_type_words, entry.object_id, entry.household_id or "", entry.summary,
        ]


AUDIT_LOG = register(Exporter(
    name="audit_log", label="閲覧・操作・ログインの記録", permission="audit.view_auditentry", header=CSV_HEADER,
    rows=rows, count=count, readable=readable, back_url="admin:audit_auditentry_changelist",
))
