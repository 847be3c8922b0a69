"""Writes of four eyes (決裁): ask for an approval, decide it — and the one rule, that whoever
entered an act may not approve it (``ensure_second_person``), which the paper application's
review uses as well."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import record

from .models import Approval


class ApprovalRefused(Exception):
    """The approval cannot be given (the message is for staff, in Japanese)."""


def four_eyes() -> bool:
    """The society's policy: acts that need a second staff member (on by default)."""
    return settings.KENPO_FOUR_EYES


def ensure_second_person(*, entered_by_id: int | None, by) -> None:
    """Whoever entered an act may not approve it (four eyes, when the policy is on)."""
    if four_eyes() and entered_by_id is not None and entered_by_id == by.pk:
        raise ApprovalRefused("入力した職員は決裁できません。別の職員に決裁を依頼してください。")


def approval_request(*, kind: str, summary: str, by, target_id: int | None = None, payload: dict | None = None,
                     request=None) -> Approval:
    """Ask for a second staff member's approval; the act waits (audited)."""
    approval = Approval.objects.create(kind=kind, target_id=target_id, payload=payload or {}, summary=summary[:300],
                                       requested_by=by)
    record(action="change", request=request, actor=by, obj=approval, summary=f"決裁を依頼: {approval.summary}")
    return approval


@transaction.atomic
def approval_decide(*, approval: Approval, by, approve: bool, note: str = "", request=None) -> Approval:
    """Approve or send back a pending approval (audited). The caller then lets the act go on, or
    undoes its waiting, in the same transaction."""
    ensure_second_person(entered_by_id=approval.requested_by_id, by=by)
    status = Approval.Status.APPROVED if approve else Approval.Status.REJECTED
    moved = Approval.objects.filter(pk=approval.pk, status=Approval.Status.PENDING).update(
        status=status, decided_by=by, decided_at=timezone.now(), note=note[:300])
    if not moved:
        raise ApprovalRefused("この決裁はすでに済んでいます。")
    approval.refresh_from_db()
    record(action="change", request=request, actor=by, obj=approval,
           summary=f"決裁を{approval.get_status_display()}: {approval.summary}", details={"note": note[:300]})
    return approval
