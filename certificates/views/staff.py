"""Staff pages outside the admin's model screens: the review queue, batch progress and
downloads. Each view checks its permission; writes go through ``services``."""


from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.services import record
from core.access import staff_required as staff_permission_required
from eligibility import selectors as eligibility_selectors

from .. import selectors, services
from ..forms import RejectForm
from ..models import (
    BatchItem,
    EligibilityCertificate,
    IllegalTransition,
    IssueBatch,
    PrintFile,
    ReissueRequest,
)

# R5 statuses in words, for the reviewer.
STATUS_LABELS = {
    "no_card": "マイナンバーカードなし",
    "not_registered": "保険証の利用登録なし",
    "active": "マイナ保険証 利用可",
    "renew_now": "更新時期",
    "grace": "期限切れ（猶予期間中）",
    "lapsed": "利用登録の解除",
}



def _review_context(req: ReissueRequest, today) -> dict:
    card = getattr(req.person, "card", None)
    return {
        "req": req,
        "status": STATUS_LABELS[card.status_on(today) if card else "no_card"],
        "certificate": selectors.current_certificate(req.person, today=today),
        "reject_form": RejectForm(prefix=f"r{req.pk}"),
    }


@staff_permission_required("certificates.review_request")
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    today = eligibility_selectors.today()
    queue = selectors.review_queue().prefetch_related(
        Prefetch("person__certificates", queryset=selectors.valid_certificates(today=today),
                 to_attr="valid_certificates")
    )[:200]
    rows = []
    for req in queue:
        card = getattr(req.person, "card", None)
        rows.append({"req": req, "status": STATUS_LABELS[card.status_on(today) if card else "no_card"],
                     "certificate": (req.person.valid_certificates or [None])[0],
                     "reject_form": RejectForm(prefix=f"r{req.pk}")})
    record(action="view", request=request, summary="審査待ちの申請一覧を閲覧",
           details={"list": "certificates.review_queue"}, row_count=len(rows))
    return render(request, "certificates/staff/review_queue.html", {"rows": rows})


@staff_permission_required("certificates.review_request")
@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(ReissueRequest.objects.select_related("person__household", "person__card"), pk=pk)
    record(action="view", request=request, obj=req, summary="交付申請を閲覧")
    context = _review_context(req, eligibility_selectors.today())
    context["events"] = req.events.all()
    return render(request, "certificates/staff/review_detail.html", context)


def _back(request: HttpRequest, req: ReissueRequest):
    if request.POST.get("next") == "detail":
        return redirect("certificates:review_detail", req.pk)
    return redirect("certificates:review_queue")


@staff_permission_required("certificates.review_request")
@require_POST
def review_approve(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(ReissueRequest, pk=pk)
    if not request.user.has_perm("certificates.issue_certificate"):
        raise PermissionDenied
    try:
        certificate = services.request_approve(req=req, by=request.user, request=request)
        messages.success(request, _("承認しました。資格確認書 %(serial)s を作成します。") % {"serial": certificate.serial})
    except IllegalTransition:
        messages.error(request, _("この申請はすでに審査済みです。"))
    return _back(request, req)


@staff_permission_required("certificates.review_request")
@require_POST
def review_reject(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(ReissueRequest, pk=pk)
    form = RejectForm(request.POST, prefix=f"r{req.pk}")
    if not form.is_valid():
        messages.error(request, _("理由を選び、備考にマイナンバーを書かないでください。"))
        return _back(request, req)
    try:
        services.request_reject(req=req, by=request.user, reject_reason=form.cleaned_data["reject_reason"],
                                note=form.cleaned_data["note"], request=request)
        messages.success(request, _("お受けできない旨を申請者に通知しました。"))
    except IllegalTransition:
        messages.error(request, _("この申請はすでに審査済みです。"))
    return _back(request, req)


@staff_permission_required("certificates.issue_certificate")
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(IssueBatch, pk=pk)
    failures = (BatchItem.objects.filter(batch=batch, state=BatchItem.State.FAILED)
                .select_related("person").order_by("pk")[:200])
    skipped = BatchItem.objects.filter(batch=batch, state=BatchItem.State.SKIPPED).select_related("person")[:200]
    return render(request, "certificates/staff/batch_detail.html", {
        "batch": batch, "failures": failures, "skipped": skipped, "print_files": batch.print_files.all(),
        "done": batch.total - batch.remaining,
    })


@staff_permission_required("certificates.issue_certificate")
@require_POST
def batch_retry(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(IssueBatch, pk=pk)
    retried = services.batch_retry_failed(batch=batch, by=request.user, request=request)
    messages.success(request, _("%(n)d 件を再実行します。") % {"n": retried})
    return redirect("certificates:batch_detail", batch.pk)


@staff_permission_required("certificates.issue_certificate")
@require_POST
def batch_mark(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the batch's certificates printed (from rendered) or mailed (from printed)."""
    batch = get_object_or_404(IssueBatch, pk=pk)
    to = request.POST.get("to")
    from_status = {"printed": "rendered", "mailed": "printed"}.get(to)
    if from_status is None:
        raise Http404
    moved = services.certificates_transition(queryset=batch.certificates.all(), from_status=from_status, to=to,
                                             by=request.user)
    record(action="change", request=request, obj=batch, summary=f"{moved}通を{to}に変更")
    messages.success(request, _("%(n)d 通の状態を更新しました。") % {"n": moved})
    return redirect("certificates:batch_detail", batch.pk)


def _download(request: HttpRequest, *, obj, field, filename: str, household=None) -> FileResponse:
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except FileNotFoundError:  # not on this host's storage: no download, and none logged
        raise Http404 from None
    record(action="download", request=request, obj=obj, household=household, summary=f"{filename} をダウンロード")
    return FileResponse(handle, as_attachment=True, filename=filename, content_type="application/pdf")


@staff_permission_required("certificates.download_pdf")
@require_GET
def certificate_pdf(request: HttpRequest, pk: int) -> FileResponse:
    certificate = get_object_or_404(EligibilityCertificate.objects.select_related("person__household"), pk=pk)
    return _download(request, obj=certificate, field=certificate.pdf, filename=f"shikaku-{certificate.serial}.pdf")


@staff_permission_required("certificates.download_pdf")
@require_GET
def print_file_pdf(request: HttpRequest, pk: int) -> FileResponse:
    print_file = get_object_or_404(PrintFile, pk=pk)
    return _download(request, obj=print_file, field=print_file.pdf,
                     filename=f"print-batch{print_file.batch_id}-{print_file.sequence:03d}.pdf")
