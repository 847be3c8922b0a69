"""The staff page 決裁 (four eyes): pending approvals, each decided by a second staff member.

The approvals app keeps the request and the one rule (who entered an act may not approve it);
this page hands a decision back to the app that owns the act (``ACTS``)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from approvals.models import Approval
from approvals.services import ApprovalRefused, approval_decide
from certificates import services as certificates
from certificates.models import IllegalTransition
from imports import services as imports

from ..access import staff_required
from ..approval_forms import DecideForm


@dataclass(frozen=True)
class Act:
    """What a kind of act needs of its approver, and how a decision goes back to its app."""

    permission: str
    approve: Callable[[Approval, HttpRequest], object]
    send_back: Callable[[Approval], object]
    link: Callable[[Approval], str]


ACTS = {
    Approval.Kind.IMPORT: Act(
        "imports.run_import",
        approve=lambda a, request: imports.import_approved(run_id=a.target_id),
        send_back=lambda a: imports.import_sent_back(run_id=a.target_id),
        link=lambda a: reverse("staff:imports:detail", args=[a.target_id]),
    ),
    Approval.Kind.VOID: Act(
        "certificates.issue_certificate",
        approve=lambda a, request: certificates.certificates_void_approved(approval=a, request=request),
        send_back=lambda a: None,  # nothing was voided
        # The first certificate (the summary names up to five serials).
        link=lambda a: reverse("admin:certificates_eligibilitycertificate_change", args=[a.payload["ids"][0]]),
    ),
    Approval.Kind.BATCH: Act(
        "certificates.issue_certificate",
        approve=lambda a, request: certificates.batch_approved(batch_id=a.target_id),
        send_back=lambda a: certificates.batch_sent_back(batch_id=a.target_id),
        link=lambda a: reverse("certificates:batch_detail", args=[a.target_id]),
    ),
}


def _kinds_for(user) -> list[str]:
    return [kind for kind, act in ACTS.items() if user.has_perm(act.permission)]


@staff_required()
def approval_list(request: HttpRequest) -> HttpResponse:
    kinds = _kinds_for(request.user)
    approvals = Approval.objects.filter(kind__in=kinds).select_related("requested_by", "decided_by")
    pending = list(approvals.filter(status=Approval.Status.PENDING).order_by("requested_at")[:200])
    for approval in pending:
        approval.link = ACTS[approval.kind].link(approval)
        approval.mine = approval.requested_by_id == request.user.pk
    return render(request, "staff/approvals.html", {
        **admin.site.each_context(request), "title": _("決裁"), "pending": pending,
        "decided": approvals.exclude(status=Approval.Status.PENDING).order_by("-decided_at")[:20],
    })


@staff_required()
@require_POST
def approval_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(Approval, pk=pk, kind__in=_kinds_for(request.user))
    act = ACTS[Approval.Kind(approval.kind)]
    form = DecideForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))  # never the typed note itself
        return redirect("staff:approvals")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        with transaction.atomic():
            approval = approval_decide(approval=approval, by=request.user, approve=approve,
                                       note=form.cleaned_data["note"], request=request)
            if approve:
                act.approve(approval, request)
            else:
                act.send_back(approval)
    except (ApprovalRefused, imports.ImportRefused) as exc:
        messages.error(request, str(exc))
    except IllegalTransition:
        messages.error(request, _("この依頼の対象は、もう決裁を待っていません。"))
    else:
        messages.success(request, _("承認しました。") if approve else _("差し戻しました。"))
    return redirect("staff:approvals")
