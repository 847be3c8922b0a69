"""The person list's filters by eligibility and by R5 status, as of today.

They live with the persons they filter (a lower app than ``staff``): the staff
dashboard counts with the same selectors (``eligible_on``, ``with_status``) and
links its numbers here, so a number and the list behind it are the same query.
"""

from datetime import date

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .rules import Status, add_months
from .selectors import eligible_on, today, with_status
from .status_labels import STATUS_LABELS

# R5 statuses with a usable マイナ保険証: during grace it still confirms eligibility.
HOLDER_STATUSES = (Status.ACTIVE, Status.RENEW_NOW, Status.GRACE)
HOLDERS = "holder"


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
