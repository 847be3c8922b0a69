"""Writes of members' re-issue requests (資格確認書（再）交付申請) and their review.

Every way a request comes in — the member's form, a clerk's entry of a paper
application, an employer contact's filing (R12) — asks ``check_request`` first: one
check, with the refusal in words, so no route accepts what the rules refuse.
"""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from audit.services import record
from core.wareki import format_member_date
from eligibility import dashboard_cache
from eligibility.ending import end_words
from eligibility.models import Person
from eligibility.rules import EndCause
from eligibility.selectors import today as _today

from .. import notifications, selectors
from ..models import (
    REFUSED_REASONS,
    Basis,
    EligibilityCertificate,
    IllegalTransition,
    Reason,
    ReissueRequest,
    ReissueRequestEvent,
)
from .certificates import certificate_issue

Cert = EligibilityCertificate


@dataclass(frozen=True)
class Refusal:
    """Why a request is not accepted: ``code`` for programs, ``message`` in the reader's words."""

    code: str
    message: str


class RequestRefused(Exception):
    """A request the rules refuse (``check_request``); ``refusal`` says why, in words."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.message)
        self.refusal = refusal

    @property
    def code(self) -> str:
        return self.refusal.code


# Refusal codes.
NOT_YET_ELIGIBLE = "not_yet_eligible"
ELIGIBILITY_ENDED = "eligibility_ended"   # 資格喪失, 任意継続's end, or 75 (R11)
REFUSED_REASON = "refused_reason"         # R7: "just in case", nursery, school trip
EX_OFFICIO = "ex_officio"                 # R6: sent without an application (「申請は不要」)
OPEN_REQUEST = "open_request"


def check_request(person: Person, reason: str | None, *, today: date,
                  received_on: date | None = None) -> Refusal | None:
    """Whether a 資格確認書 request for ``person`` is accepted on ``today``: None, or the
    ``Refusal`` with the reason in words. ``reason`` None asks about any accepted reason
    (whether to offer the request at all); ``received_on`` is a paper application's day,
    on which the person must have been eligible too.

    In order: eligibility on the day (R11: nobody from the 75th birthday; nobody past
    任意継続's last day or a 資格喪失日), a reason R7 refuses, an open request (followed,
    not repeated), a person the society sends one to without an application (R6, and no
    valid certificate held: 「申請は不要」).
    """
    for day in filter(None, (received_on, today)):
        if day < person.eligible_from:
            return Refusal(NOT_YET_ELIGIBLE, _("%(day)sには、この方はまだ当組合の資格がありません（資格取得日：%(from)s）。") % {
                "day": _d(day), "from": _d(person.eligible_from)})
        end = person.eligibility_end()
        if day > end.last_day:
            words = end_words(end, today=day)
            message = words.headline + " " + words.what_next
            if end.cause == EndCause.LATE_ELDERLY:
                message += " " + _("75歳以上の方の資格確認書は、当組合では申請を受け付けられません。")
            else:
                message += " " + _("当組合では資格確認書の申請を受け付けられません。")
            return Refusal(ELIGIBILITY_ENDED, message)
    if reason in REFUSED_REASONS:
        return Refusal(REFUSED_REASON, _("「%(reason)s」という理由では、資格確認書を交付できません。") % {
            "reason": Reason(reason).label})
    if ReissueRequest.objects.filter(person=person, status__in=ReissueRequest.OPEN).exists():
        return Refusal(OPEN_REQUEST, _("この方の申請はすでに受け付けています。"))  # follow the one already made
    if selectors.ex_officio_basis_of(person, today=today) and selectors.current_certificate(
            person, today=today) is None:
        return Refusal(EX_OFFICIO, _("申請は不要です。この方には、資格確認書を申請なしでお送りします。"))
    return None


def _d(day: date) -> str:
    return format_member_date(day, get_language() or "ja")


def _refuse_unless_accepted(person: Person, reason: str, *, today: date, received_on: date | None = None) -> None:
    refusal = check_request(person, reason, today=today, received_on=received_on)
    if refusal is not None:
        raise RequestRefused(refusal)


def _open_request_refused() -> RequestRefused:
    return RequestRefused(Refusal(OPEN_REQUEST, _("この方の申請はすでに受け付けています。")))


def _request_move(*, request: ReissueRequest, to: str, by, note: str = "", **fields) -> ReissueRequest:
    """Conditional move of a request along its machine, with a history event and an e-mail."""
    current = ReissueRequest.Status(request.status)
    if to not in ReissueRequest.ALLOWED[current]:
        raise IllegalTransition(f"{current} → {to}")
    moved = ReissueRequest.objects.filter(pk=request.pk, status=current).update(status=to, **fields)
    if not moved:
        raise IllegalTransition(f"{current} → {to} (already changed)")
    request.refresh_from_db()
    dashboard_cache.forget_persons([request.person_id])
    ReissueRequestEvent.objects.create(request=request, status=to, by=by, note=note[:300])
    transaction.on_commit(lambda: notifications.request_changed(request))
    return request


def request_mark_issued(*, request_id: int, note: str = "") -> None:
    """An approved request's certificate was made: the request is done."""
    req = ReissueRequest.objects.select_related("requested_by").get(pk=request_id)
    if req.status == ReissueRequest.Status.APPROVED:
        _request_move(request=req, to=ReissueRequest.Status.ISSUED, by=None, note=note)


@transaction.atomic
def request_submit(*, person: Person, requested_by, reason: str, noticed_on=None, details: str = "",
                   request=None, today: date | None = None) -> ReissueRequest:
    """A member's request (the employer route, R12, files through here too). ``RequestRefused``
    (nothing written) when ``check_request`` refuses it."""
    _refuse_unless_accepted(person, reason, today=today or _today())
    try:
        with transaction.atomic():
            req = ReissueRequest.objects.create(
                person=person, requested_by=requested_by, reason=reason, noticed_on=noticed_on, details=details
            )
    except IntegrityError:
        raise _open_request_refused() from None
    ReissueRequestEvent.objects.create(request=req, status=req.status, by=requested_by)
    record(action="change", request=request, actor=requested_by, obj=req, summary="資格確認書の交付を申請")
    transaction.on_commit(lambda: notifications.request_changed(req))
    return req


@transaction.atomic
def request_submit_via_employer(*, person: Person, employer, by, reason: str, noticed_on=None, details: str = "",
                                request=None) -> ReissueRequest:
    """An employer contact (事業所担当者) files the application for an employee or a
    dependent (RULES.md R12, 施行規則47): the same path and check as a member's request;
    the request belongs to the member (their history, their e-mails), not to the contact."""
    req = request_submit(person=person, requested_by=by, reason=reason, noticed_on=noticed_on, details=details,
                         request=request)
    req.requested_by, req.via_employer = None, employer
    req.save(update_fields=["requested_by", "via_employer"])
    return req


@transaction.atomic
def request_enter_paper(*, person: Person, reason: str, received_on, by, noticed_on=None, details: str = "",
                        request=None) -> ReissueRequest:
    """A clerk enters a paper application (申請書) on the member's behalf, with the day the
    society received it; it then goes through the same review as one made online.
    ``RequestRefused`` (nothing written) when ``check_request`` refuses it."""
    _refuse_unless_accepted(person, reason, today=_today(), received_on=received_on)
    try:
        with transaction.atomic():
            req = ReissueRequest.objects.create(
                person=person, requested_by=None, entered_by=by, received_on=received_on, reason=reason,
                noticed_on=noticed_on, details=details,
            )
    except IntegrityError:
        raise _open_request_refused() from None
    ReissueRequestEvent.objects.create(request=req, status=req.status, by=by,
                                       note=f"紙の申請書（{received_on:%Y-%m-%d} 受付）を職員が入力")
    record(action="change", request=request, actor=by, obj=req,
           summary=f"紙の交付申請を代理入力（{received_on:%Y-%m-%d} 受付）")
    dashboard_cache.forget_persons([person.pk])
    return req


@transaction.atomic
def request_withdraw(*, req: ReissueRequest, by, request=None) -> ReissueRequest:
    _request_move(request=req, to=ReissueRequest.Status.WITHDRAWN, by=by)
    record(action="change", request=request, actor=by, obj=req, summary="資格確認書の交付申請を取り下げ")
    return req


@transaction.atomic
def request_approve(*, req: ReissueRequest, by, request=None) -> Cert:
    """Approve: issue a certificate (voiding the old one); it is printed in the day's print
    file of its delivery route. ``CertificateRefused`` (nothing changed) if it cannot be issued."""
    _request_move(request=req, to=ReissueRequest.Status.APPROVED, by=by,
                  reviewed_by=by, reviewed_at=timezone.now())
    certificate = certificate_issue(person=req.person, basis=Basis.APPLICATION, issued_by=by, reissue_request=req)
    record(action="issue", request=request, actor=by, obj=req, summary=f"交付申請を承認（{certificate.serial}）")
    return certificate


@transaction.atomic
def request_reject(*, req: ReissueRequest, by, reject_reason: str, note: str = "", request=None) -> ReissueRequest:
    if reject_reason not in ReissueRequest.RejectReason.values:
        raise ValueError("unknown reject reason")
    _request_move(request=req, to=ReissueRequest.Status.REJECTED, by=by, reviewed_by=by,
                  reviewed_at=timezone.now(), reject_reason=reject_reason, review_note=note)
    record(action="change", request=request, actor=by, obj=req, summary="交付申請をお受けできないと判断")
    return req
