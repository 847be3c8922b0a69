"""Reads for the staff dashboard: society-wide counts, each in one set-based query.

At a million persons the persons' figures (each R5 status and the expiries per
month) come from one grouped query over ``eligibility.selectors.with_status``,
the work queues from one count each. That query takes about a second at a
million persons on a busy machine, so pages never wait for it: they show the
cached summary, and one older than a minute is recomputed by a Celery task
(``staff.tasks.refresh_dashboard``) for the next view.

The admin list filters that the dashboard's numbers link to live here too, so
that a number and the list behind it are the same query.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from django.apps import apps
from django.contrib import admin
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Count, DateField, Q, QuerySet, When
from django.db.models.functions import TruncMonth
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from eligibility.models import Person
from eligibility.rules import Status, add_months
from eligibility.selectors import eligible_on, today, with_status

logger = logging.getLogger(__name__)
CACHE_KEY = "staff:dashboard:summary"
REFRESHING_KEY = "staff:dashboard:refreshing"
FRESH_SECONDS = 60  # a summary older than this is recomputed in the background
KEEP_SECONDS = 6 * 60 * 60  # ...and shown meanwhile, rather than making the page wait
REFRESH_LOCK_SECONDS = 120
MONTHS = 24
# R5 statuses with a usable マイナ保険証: during grace it still confirms eligibility.
HOLDER_STATUSES = (Status.ACTIVE, Status.RENEW_NOW, Status.GRACE)
STATUS_LABELS = {
    Status.NO_CARD: _("マイナンバーカードなし"),
    Status.NOT_REGISTERED: _("保険証利用登録なし"),
    Status.ACTIVE: _("利用中"),
    Status.RENEW_NOW: _("更新の時期"),
    Status.GRACE: _("期限切れ（猶予期間中）"),
    Status.LAPSED: _("利用登録の解除"),
}
HOLDERS = "holder"
PERSON_LIST = "admin:eligibility_person_changelist"


@dataclass
class Figure:
    """One number on the dashboard, and the admin list it stands for (or None)."""

    label: str
    count: int | None  # None: the feature is not installed yet ("—")
    url: str | None = None


@dataclass
class MonthExpiries:
    month: date
    ecert: int = 0
    card: int = 0
    ecert_url: str | None = None
    card_url: str | None = None


@dataclass
class Summary:
    day: date
    computed_at: object
    persons: Figure
    holders: Figure
    statuses: list[Figure]
    work: list[Figure]
    months: list[MonthExpiries] = field(default_factory=list)


def _url(name: str, **params) -> str | None:
    try:
        base = reverse(name)
    except NoReverseMatch:
        return None
    return f"{base}?{urlencode(params)}" if params else base


def _expiry_month(column: str, start: date, end: date) -> Case:
    """The first day of the month ``card.<column>`` falls in, when it is in [start, end) on a card."""
    in_range = Q(card__has_card=True, **{f"card__{column}__gte": start, f"card__{column}__lt": end})
    return Case(When(in_range, then=TruncMonth(f"card__{column}")), default=None, output_field=DateField())


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def society_counts(*, day: date, months: int = MONTHS) -> tuple[dict[Status, int], list[MonthExpiries]]:
    """Persons eligible on ``day`` by R5 status, and their e-certificate (電子証明書) and
    card expiries per month from this one: ONE grouped query over persons and card facts.

    Grouping by (status, e-certificate month, card month) gives at most a few
    thousand groups whatever the size of the society, and the join of persons with
    their card facts, the costly part, is done once for all the figures.
    """
    start = day.replace(day=1)
    end = add_months(start, months)
    statuses = dict.fromkeys(Status, 0)
    by_month = {add_months(start, i): MonthExpiries(month=add_months(start, i)) for i in range(months)}
    rows = (
        with_status(Person.objects.filter(eligible_on(day)), day=day)
        .annotate(ecert_month=_expiry_month("ecert_expires_on", start, end),
                  card_month=_expiry_month("card_expires_on", start, end))
        .values_list("status", "ecert_month", "card_month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for status, ecert_month, card_month, n in rows:
        statuses[Status(status)] += n
        if ecert_month is not None:
            by_month[_as_date(ecert_month)].ecert += n
        if card_month is not None:
            by_month[_as_date(card_month)].card += n
    for entry in by_month.values():
        key = entry.month.strftime("%Y-%m")
        entry.ecert_url = _url(PERSON_LIST, expires=f"ecert:{key}")
        entry.card_url = _url(PERSON_LIST, expires=f"card:{key}")
    return statuses, list(by_month.values())


def _count_model(label: str, app_model: str, changelist: str, **filters) -> Figure:
    """A count of another app's model, or "—" while that model does not exist yet."""
    try:
        model = apps.get_model(app_model)
    except LookupError:
        return Figure(label, None)
    return Figure(label, model.objects.filter(**filters).count(), _url(changelist, **{
        f"{name}__exact": value for name, value in filters.items()
    }))


def work_figures() -> list[Figure]:
    return [
        _count_model(_("審査待ちの再交付申請"), "certificates.ReissueRequest",
                     "admin:certificates_reissuerequest_changelist", status="submitted"),
        _count_model(_("印刷待ちの資格確認書"), "certificates.EligibilityCertificate",
                     "admin:certificates_eligibilitycertificate_changelist", status="rendered"),
        _count_model(_("発送待ちの資格確認書"), "certificates.EligibilityCertificate",
                     "admin:certificates_eligibilitycertificate_changelist", status="printed"),
        _count_model(_("送信に失敗したお知らせ"), "reminders.Reminder",
                     "admin:reminders_reminder_changelist", status="failed"),
        _count_model(_("作成に失敗した資格確認書（PDF）"), "certificates.BatchItem",
                     "admin:certificates_batchitem_changelist", state="failed"),
    ]


def compute_summary(*, day: date) -> Summary:
    statuses, months = society_counts(day=day)
    return Summary(
        day=day,
        computed_at=timezone.now(),
        persons=Figure(_("加入者（資格あり）"), sum(statuses.values()), _url(PERSON_LIST, eligible="yes")),
        holders=Figure(
            _("マイナ保険証を使える人"), sum(statuses[s] for s in HOLDER_STATUSES), _url(PERSON_LIST, status=HOLDERS)
        ),
        statuses=[Figure(str(STATUS_LABELS[s]), statuses[s], _url(PERSON_LIST, status=s.value)) for s in Status],
        work=work_figures(),
        months=months,
    )


def refresh_summary(*, day: date | None = None) -> Summary:
    """Compute the summary now and keep it for the pages (the background task calls this)."""
    summary = compute_summary(day=day or today())
    cache.set(CACHE_KEY, summary, KEEP_SECONDS)
    cache.delete(REFRESHING_KEY)
    return summary


def request_refresh() -> None:
    """Have a worker recompute the summary, once however many pages ask for it."""
    if not cache.add(REFRESHING_KEY, True, REFRESH_LOCK_SECONDS):
        return
    from .tasks import refresh_dashboard

    def enqueue() -> None:
        try:
            refresh_dashboard.apply_async(retry=False)
        except Exception:  # the broker is down: the pages still show the last summary
            cache.delete(REFRESHING_KEY)
            logger.warning("could not enqueue the dashboard refresh", exc_info=True)

    transaction.on_commit(enqueue)


def dashboard_summary() -> Summary:
    """The latest summary without waiting for the database (stale-while-revalidate).

    Only the very first view (an empty cache) computes it in the request; after
    that a page shows the last summary, and one older than a minute (or of
    another day) is recomputed by a worker for the next view.
    """
    summary = cache.get(CACHE_KEY)
    if summary is None:
        return refresh_summary()
    age = (timezone.now() - summary.computed_at).total_seconds()
    if age > FRESH_SECONDS or summary.day != today():
        request_refresh()
    return summary


# --- The chart (server-rendered SVG) ----------------------------------------------

CHART_WIDTH, CHART_HEIGHT = 760, 280
PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM = 56, 16, 236


def _nice_ceiling(value: int) -> int:
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value and top % 4 == 0:
            return top
    return ((value + 3) // 4) * 4


def chart(months: list[MonthExpiries]) -> dict:
    """Bar geometry for the expiry chart: two bars a month, four grid lines."""
    top = _nice_ceiling(max([m.ecert for m in months] + [m.card for m in months] + [0]))
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = (CHART_WIDTH - PLOT_LEFT - 8) / max(len(months), 1)
    bar = slot * 0.38

    def height(n: int) -> float:
        return round(plot_height * n / top, 1)

    bars = []
    for i, m in enumerate(months):
        x = PLOT_LEFT + i * slot + slot * 0.1
        bars.append({
            "month": m, "label_x": round(x + bar, 1), "year_label": i == 0 or m.month.month == 1,
            "ecert": {"x": round(x, 1), "y": round(PLOT_BOTTOM - height(m.ecert), 1), "h": height(m.ecert),
                      "n": m.ecert, "url": m.ecert_url},
            "card": {"x": round(x + bar, 1), "y": round(PLOT_BOTTOM - height(m.card), 1), "h": height(m.card),
                     "n": m.card, "url": m.card_url},
        })
    grid = [{"value": top * k // 4, "y": round(PLOT_BOTTOM - plot_height * k / 4, 1)} for k in range(5)]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": PLOT_LEFT, "right": CHART_WIDTH - 8,
            "bottom": PLOT_BOTTOM, "bar": round(bar, 1), "bars": bars, "grid": grid}


# --- The admin list filters behind the numbers -------------------------------------


class EligibleListFilter(admin.SimpleListFilter):
    """``?eligible=yes``: persons eligible today (the dashboard's 加入者)."""

    title = _("資格")
    parameter_name = "eligible"

    def lookups(self, request, model_admin):
        return [("yes", _("資格あり（本日）")), ("no", _("資格なし（喪失・取得前）"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(eligible_on(today()))
        if self.value() == "no":
            return queryset.exclude(eligible_on(today()))
        return queryset


class StatusListFilter(admin.SimpleListFilter):
    """``?status=<R5 status>`` or ``?status=holder``: eligible persons in that status today."""

    title = _("マイナ保険証の状況（本日）")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(HOLDERS, _("マイナ保険証を使える人")), *((s.value, STATUS_LABELS[s]) for s in Status)]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        day = today()
        annotated = with_status(queryset.filter(eligible_on(day)), day=day)
        if value == HOLDERS:
            return annotated.filter(status__in=[s.value for s in HOLDER_STATUSES])
        return annotated.filter(status=value)


class ExpiryMonthListFilter(admin.SimpleListFilter):
    """``?expires=ecert:2026-12`` or ``card:2026-12``: eligible persons whose
    e-certificate (or card) expires in that month; listed only when chosen."""

    title = _("有効期限の月")
    parameter_name = "expires"

    def _parsed(self) -> tuple[str, date] | None:
        kind, _sep, month = (self.value() or "").partition(":")
        if kind not in ("ecert", "card"):
            return None
        try:
            year, number = (int(part) for part in month.split("-"))
            first = date(year, number, 1)
            add_months(first, 1)  # a month whose next one exists (not 9999-12)
        except (ValueError, OverflowError):
            return None
        return kind, first

    def lookups(self, request, model_admin):
        parsed = self._parsed()
        if parsed is None:
            return []
        kind, month = parsed
        what = _("電子証明書") if kind == "ecert" else _("カード")
        return [(self.value(), f"{what} {month.year}-{month.month:02d}")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        parsed = self._parsed()
        if parsed is None:
            return queryset
        kind, month = parsed
        column = "card__ecert_expires_on" if kind == "ecert" else "card__card_expires_on"
        return queryset.filter(eligible_on(today())).filter(
            Q(card__has_card=True), **{f"{column}__gte": month, f"{column}__lt": add_months(month, 1)}
        )
