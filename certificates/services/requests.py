"""Writes of members' re-issue requests (資格確認書（再）交付申請) and their review."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import record
from eligibility import dashboard_cache
from eligibility.models import Person

from .. import notifications
from ..models import (
    Basis,
    EligibilityCertificate,
    IllegalTransition,
    ReissueRequest,
    ReissueRequestEvent,
)
from .certificates import certificate_issue

Cert = EligibilityCertificate


class RequestRefused(Exception):
    """A request that cannot be made (one is already open for the person)."""


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
                   request=None) -> ReissueRequest:
    if ReissueRequest.objects.filter(person=person, status__in=ReissueRequest.OPEN).exists():
        raise RequestRefused("open request exists")
    try:
        with transaction.atomic():
            req = ReissueRequest.objects.create(
                person=person, requested_by=requested_by, reason=reason, noticed_on=noticed_on, details=details
            )
    except IntegrityError:
        raise RequestRefused("open request exists") from None
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
    society received it; it then goes through the same review as one made online."""
    if not person.is_eligible_on(received_on):
        raise RequestRefused("not eligible")
    if ReissueRequest.objects.filter(person=person, status__in=ReissueRequest.OPEN).exists():
        raise RequestRefused("open request exists")
    try:
        with transaction.atomic():
            req = ReissueRequest.objects.create(
                person=person, requested_by=None, entered_by=by, received_on=received_on, reason=reason,
                noticed_on=noticed_on, details=details,
            )
    except IntegrityError:
        raise RequestRefused("open request exists") from None
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
