"""Staff pages outside the admin's model screens, inside its layout: the review queue,
batch progress and marks per employer, downloads, and the clerk's tools on a person
(issue or re-issue one certificate, void with a reason, enter a paper application).
Each view checks its permission; writes go through ``certificates.services``."""


from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from approvals.services import four_eyes
from audit.services import record, record_each
from certificates import print_selectors, selectors, services
from certificates.models import (
    Basis,
    BatchItem,
    EligibilityCertificate,
    IllegalTransition,
    IssueBatch,
    PrintFile,
    ReissueRequest,
)
from eligibility import selectors as eligibility_selectors
from eligibility.ending import end_of
from eligibility.models import Person
from eligibility.status_labels import STATUS_LABELS

from ..access import staff_required as staff_permission_required
from ..certificate_forms import IssueOneForm, PaperApplicationForm, RejectForm, VoidForm


def _review_context(req: ReissueRequest, today) -> dict:
    card = getattr(req.person, "card", None)
    return {
        "req": req,
        "status": STATUS_LABELS[card.status_on(today) if card else "unknown"],
        "certificate": selectors.current_certificate(req.person, today=today),
        "reject_form": RejectForm(prefix=f"r{req.pk}"),
    }


# Every staff role reads requests (閲覧 included); approving or rejecting needs review_request.
@staff_permission_required("certificates.view_reissuerequest")
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
        rows.append({"req": req, "status": STATUS_LABELS[card.status_on(today) if card else "unknown"],
                     "certificate": (req.person.valid_certificates or [None])[0],
                     "reject_form": RejectForm(prefix=f"r{req.pk}")})
    record(action="view", request=request, summary="審査待ちの申請一覧を閲覧",
           details={"list": "certificates.review_queue"}, row_count=len(rows))
    return render(request, "staff/certificates/review_queue.html", {"rows": rows})


@staff_permission_required("certificates.view_reissuerequest")
@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(ReissueRequest.objects.select_related("person__household", "person__card"), pk=pk)
    record(action="view", request=request, obj=req, summary="交付申請を閲覧")
    context = _review_context(req, eligibility_selectors.today())
    context["events"] = req.events.all()
    # Four eyes: the clerk who entered a paper application is told that someone else approves it.
    context["entered_by_me"] = four_eyes() and req.entered_by_id == request.user.pk
    return render(request, "staff/certificates/review_detail.html", context)


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
        messages.success(request, _("承認しました。資格確認書 %(serial)s は本日分の印刷用ファイルに入ります。")
                         % {"serial": certificate.serial})
    except IllegalTransition:
        messages.error(request, _("この申請はすでに審査済みです。"))
    except services.CertificateRefused as exc:
        messages.error(request, _("承認できません：%(why)s") % {"why": exc})
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


def _admin_context(request: HttpRequest, title: str) -> dict:
    """What admin/base_site.html needs, so these pages sit inside the admin's layout."""
    from django.contrib import admin

    return {**admin.site.each_context(request), "title": title}


@staff_permission_required("certificates.issue_certificate")
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(IssueBatch, pk=pk)
    failures = (BatchItem.objects.filter(batch=batch, state=BatchItem.State.FAILED)
                .select_related("person").order_by("pk")[:200])
    skipped = BatchItem.objects.filter(batch=batch, state=BatchItem.State.SKIPPED).select_related("person")[:200]
    if "refreshed" not in request.GET:  # the page's own refresh while it runs is the same read
        record(action="view", request=request, obj=batch, summary="交付バッチを閲覧")
    # Progress in its two steps, counted live from the items: issuing moves from the first
    # chunk, long before the print files render the sheets.
    states = selectors.batch_state_counts(batch_id=batch.pk)
    issued = batch.total - states[BatchItem.State.PENDING]
    return render(request, "staff/certificates/batch_detail.html", {
        **_admin_context(request, _("交付バッチ #%(n)d") % {"n": batch.pk}),
        "batch": batch, "failures": failures, "skipped": skipped, "print_files": batch.print_files.all(),
        "done": batch.total - batch.remaining, "groups": print_selectors.batch_groups(batch),
        "issued": issued, "issued_percent": int(100 * issued / batch.total) if batch.total else 100,
    })


@staff_permission_required("certificates.issue_certificate")
@require_POST
def batch_retry(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(IssueBatch, pk=pk)
    retried = services.batch_retry_failed(batch=batch, by=request.user, request=request)
    messages.success(request, _("%(n)d 件を再実行します。") % {"n": retried})
    return redirect("certificates:batch_detail", batch.pk)


MARKS = {"printed": "rendered", "mailed": "printed"}


@staff_permission_required("certificates.issue_certificate")
@require_POST
def batch_mark(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark certificates printed (from rendered) or mailed (from printed): the whole batch,
    or one employer's group (``group`` = the employer's id, or ``post`` for direct mail),
    since each employer's packet goes out on its own day."""
    batch = get_object_or_404(IssueBatch, pk=pk)
    to = request.POST.get("to")
    if to not in MARKS:
        raise Http404
    certificates = batch.certificates.all()
    group = request.POST.get("group", "")
    if group == "post":
        certificates = certificates.filter(delivery_route="post")
    elif group.isdigit():
        certificates = certificates.filter(delivery_route="employer", employer_id=int(group))
    elif group:
        raise Http404
    moved = services.certificates_transition(queryset=certificates, from_status=MARKS[to], to=to, by=request.user)
    record(action="change", request=request, obj=batch,
           summary=f"{moved}通を{to}に変更" + (f"（グループ {group}）" if group else ""))
    messages.success(request, _("%(n)d 通の状態を更新しました。") % {"n": moved})
    return redirect("certificates:batch_detail", batch.pk)


@staff_permission_required("certificates.download_pdf")
@require_GET
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The single certificate's PDF (download, re-print): the same bytes every time. A voided
    certificate is refused: its printed data stays readable on its admin page."""
    certificate = get_object_or_404(EligibilityCertificate.objects.select_related("person__household"), pk=pk)
    try:
        content = services.certificate_pdf(certificate=certificate)
    except services.CertificateVoid:
        messages.error(request, _("無効の資格確認書は印刷・ダウンロードできません。"))
        return redirect("admin:certificates_eligibilitycertificate_change", certificate.pk)
    filename = f"shikaku-{certificate.serial}.pdf"
    record(action="download", request=request, obj=certificate, summary=f"{filename} をダウンロード")
    return _pdf_response(content, filename)


@staff_permission_required("certificates.download_pdf")
@require_GET
def print_file_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """A print file; the pages of certificates voided since it was made are stamped 「無効」."""
    print_file = get_object_or_404(PrintFile, pk=pk)
    if not print_file.pdf:
        raise Http404
    try:
        content = services.print_file_content(print_file=print_file)
    except FileNotFoundError:  # not on this host's storage: no download, and none logged
        raise Http404 from None
    filename = print_file.pdf.name.rsplit("/", 1)[-1]
    record(action="download", request=request, obj=print_file, summary=f"{filename} をダウンロード")
    return _pdf_response(content, filename)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_permission_required("certificates.issue_certificate")
@require_POST
def daily_print_files_make(request: HttpRequest) -> HttpResponse:
    """On demand, what the daily job does: today's print files of certificates issued one at a time."""
    made = services.daily_print_files_make(day=eligibility_selectors.today())
    record(action="issue", request=request, summary=f"本日分の印刷用ファイルを作成（{made}件）")
    messages.success(request, _("印刷用ファイルを %(n)d 件作成します。") % {"n": made})
    return redirect("admin:certificates_printfile_changelist")


# --- Voids, single issues and paper applications (from the person's page) ------------------


def _ids(raw: str) -> list[int]:
    return [int(x) for x in raw.split(",") if x.strip().isdigit()][:500]


@staff_permission_required("certificates.issue_certificate")
@require_http_methods(["GET", "POST"])
def certificate_void(request: HttpRequest) -> HttpResponse:
    """Void one or more certificates: the reason is asked, and this page is the confirmation."""
    ids = _ids(request.GET.get("ids", ""))
    certificates = (EligibilityCertificate.objects.filter(pk__in=ids).exclude(status=EligibilityCertificate.Status.VOID)
                    .select_related("person__household"))
    if not certificates:
        messages.error(request, _("無効にできる資格確認書がありません（すでに無効です）。"))
        return redirect("admin:certificates_eligibilitycertificate_changelist")
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        asked = services.certificates_void_or_ask(queryset=certificates, reason=form.cleaned_data["reason"],
                                                  by=request.user, request=request)
        if asked is None:
            messages.success(request, _("%(n)d 通を無効にしました。") % {"n": len(certificates)})
        else:
            messages.success(request, _("無効にする決裁を依頼しました（決裁 #%(n)d）。別の職員が承認するまで、"
                                        "資格確認書は有効なままです。") % {"n": asked.pk})
        if len(ids) == 1:
            return redirect("certificates:person_certificates", certificates[0].person_id)
        return redirect("admin:certificates_eligibilitycertificate_changelist")
    if request.method == "GET":
        record_each(action="view", request=request, objs=[c.person for c in certificates],
                    summary="無効にする資格確認書の確認画面を閲覧")
    return render(request, "staff/certificates/void_confirm.html", {
        **_admin_context(request, _("資格確認書を無効にする")), "certificates": certificates, "form": form,
    })


def _person_for_staff(pk: int) -> Person:
    return get_object_or_404(Person.objects.select_related("household__employer"), pk=pk)


@staff_permission_required("certificates.view_eligibilitycertificate")
@require_GET
def person_certificates(request: HttpRequest, pk: int) -> HttpResponse:
    """One person's certificates, with the clerk's tools: issue or re-issue one, re-print,
    void, and enter a paper application."""
    person = _person_for_staff(pk)
    record(action="view", request=request, obj=person, summary="資格確認書の一覧を閲覧")
    today = eligibility_selectors.today()
    # The form proposes the person's real R6 basis (or an application when none applies).
    basis = selectors.ex_officio_basis_of(person, today=today)
    refusal = services.check_request(person, None, today=today)
    return render(request, "staff/certificates/person_certificates.html", {
        **_admin_context(request, _("%(name)s さんの資格確認書") % {"name": person.name}),
        "person": person, "certificates": person.certificates.select_related("print_file").order_by("-pk"),
        "issue_form": IssueOneForm(initial={"basis": basis.value if basis else Basis.APPLICATION.value}),
        "ex_officio_basis": Basis(basis.value) if basis else None, "eligible": person.is_eligible_on(today),
        "mailing_problem": services.mailing_problem(person),
        "open_request": person.reissue_requests.filter(status__in=ReissueRequest.OPEN).first(),
        # The end of eligibility as the member reads it (the day, what comes next, no certificate past it).
        "end": end_of(person, today=today),
        "request_refusal": refusal if refusal and refusal.code != services.OPEN_REQUEST else None,
    })


@staff_permission_required("certificates.issue_certificate")
@require_POST
def person_issue(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_for_staff(pk)
    form = IssueOneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("交付の根拠を選んでください。"))
        return redirect("certificates:person_certificates", person.pk)
    try:
        certificate = services.certificate_issue_single(person=person, basis=form.cleaned_data["basis"],
                                                        by=request.user, request=request)
    except services.CertificateRefused as exc:
        messages.error(request, _("交付できません：%(why)s") % {"why": exc})
    else:
        messages.success(request, _("資格確認書 %(serial)s を交付しました。本日分の印刷用ファイルに入ります。")
                         % {"serial": certificate.serial})
    return redirect("certificates:person_certificates", person.pk)


@staff_permission_required("certificates.review_request")
@require_http_methods(["GET", "POST"])
def paper_application(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter a paper application (申請書) on the member's behalf, with the day it was received."""
    person = _person_for_staff(pk)
    form = PaperApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            req = services.request_enter_paper(
                person=person, reason=data["reason"], received_on=data["received_on"], by=request.user,
                noticed_on=data.get("noticed_on"), details=data["details"], request=request,
            )
        except services.RequestRefused as refused:
            if refused.code == services.OPEN_REQUEST:
                messages.error(request, refused.refusal.message)
                return redirect("certificates:person_certificates", person.pk)
            form.add_error(None, refused.refusal.message)
        else:
            messages.success(request, _("紙の申請を受け付けました。審査してください。"))
            return redirect("certificates:review_detail", req.pk)
    if request.method == "GET":
        record(action="view", request=request, obj=person, summary="紙の申請書の入力画面を閲覧")
    return render(request, "staff/certificates/paper_application.html", {
        **_admin_context(request, _("紙の申請書を入力")), "person": person, "form": form,
    })
