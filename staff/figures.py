"""The staff dashboard in words: each cached number with its label (in the reader's
language, chosen per request) and the admin list it stands for."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from certificates.models import Basis
from certificates.selectors import EX_OFFICIO_BASES
from eligibility.admin_filters import HOLDER_STATUSES, HOLDERS
from eligibility.rules import Status
from eligibility.status_labels import STATUS_LABELS

from .chart import MonthExpiries
from .dashboard import Summary

PERSON_LIST = "admin:eligibility_person_changelist"
EX_OFFICIO_LIST = "admin:certificates_exofficiocandidate_changelist"
WORK_LABELS = {
    "requests_submitted": (_("審査待ちの再交付申請"), "admin:certificates_reissuerequest_changelist",
                           {"status__exact": "submitted"}),
    "certificates_queued": (_("作成待ちの資格確認書（承認・交付済み、印刷用ファイルの作成前）"),
                            "admin:certificates_eligibilitycertificate_changelist", {"status__exact": "queued"}),
    "certificates_rendered": (_("印刷待ちの資格確認書"), "admin:certificates_eligibilitycertificate_changelist",
                              {"status__exact": "rendered"}),
    "certificates_printed": (_("発送待ちの資格確認書"), "admin:certificates_eligibilitycertificate_changelist",
                             {"status__exact": "printed"}),
    "reminders_failed": (_("送信に失敗したお知らせ"), "admin:reminders_reminder_changelist",
                         {"status__exact": "failed"}),
    "batch_items_failed": (_("作成に失敗した資格確認書（PDF）"), "admin:certificates_batchitem_changelist",
                           {"state__exact": "failed"}),
}


@dataclass
class Figure:
    """One number on the dashboard, and the admin list it stands for."""

    label: str
    count: int | None  # None: not counted yet (shown as "—")
    url: str | None = None


@dataclass
class Dashboard:
    summary: Summary
    persons: Figure
    holders: Figure
    statuses: list[Figure]
    unknown: Figure  # R5 ``unknown``: nobody has said; the registration-status file fills them in
    work: list[Figure]
    ex_officio_total: Figure
    ex_officio: list[Figure]
    renewals: Figure
    months: list[MonthExpiries]

    @property
    def day(self):
        return self.summary.day

    @property
    def computed_at(self):
        return self.summary.computed_at


def _url(name: str, **params) -> str:
    base = reverse(name)
    return f"{base}?{urlencode(params)}" if params else base


def dashboard_figures(summary: Summary) -> Dashboard:
    """Label and link every number of ``summary`` (labels in the active language)."""
    statuses = summary.statuses
    months = [
        MonthExpiries(month=month, ecert=ecert, card=card,
                      ecert_url=_url(PERSON_LIST, expires=f"ecert:{month:%Y-%m}"),
                      card_url=_url(PERSON_LIST, expires=f"card:{month:%Y-%m}"))
        for month, ecert, card in summary.months
    ]
    counted = summary.ex_officio
    ex_officio = [Figure(str(b.label), counted[b.value] if counted is not None else None,
                         _url(EX_OFFICIO_LIST, basis=b.value)) for b in EX_OFFICIO_BASES]
    return Dashboard(
        summary=summary,
        persons=Figure(str(_("加入者（資格あり）")), sum(statuses.values()), _url(PERSON_LIST, eligible="yes")),
        holders=Figure(str(_("マイナ保険証を使える人")), sum(statuses.get(s.value, 0) for s in HOLDER_STATUSES),
                       _url(PERSON_LIST, status=HOLDERS)),
        statuses=[Figure(str(STATUS_LABELS[s]), statuses.get(s.value, 0), _url(PERSON_LIST, status=s.value))
                  for s in Status],
        unknown=Figure(str(STATUS_LABELS[Status.UNKNOWN]), statuses.get(Status.UNKNOWN.value, 0),
                       _url(PERSON_LIST, status=Status.UNKNOWN.value)),
        work=[Figure(str(label), summary.work.get(key, 0), _url(name, **params))
              for key, (label, name, params) in WORK_LABELS.items()],
        ex_officio_total=Figure(str(_("職権交付が必要な人（合計）")),
                                sum(counted.values()) if counted is not None else None, _url(EX_OFFICIO_LIST)),
        ex_officio=ex_officio,
        renewals=Figure(_("%(months)d か月以内に更新する資格確認書（職権）") % {
                            "months": settings.KENPO_CERTIFICATE_RENEWAL_MONTHS},
                        counted.get(Basis.RENEWAL.value, 0) if counted is not None else None,
                        _url(EX_OFFICIO_LIST, basis=Basis.RENEWAL.value)),
        months=months,
    )
