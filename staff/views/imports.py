"""Staff pages to upload a CSV file, follow its check, confirm it, and follow the write.

The upload only stores the file and queues the check (imports.tasks); the run's page
shows the job's progress and refreshes itself (a ``<meta refresh>``, no JavaScript)
until the job has an outcome.
"""

import io
from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import record
from core import csvfiles
from eligibility.models import Employer, Society
from imports import parsers, services
from imports.models import ImportRun

from ..access import staff_required
from ..import_forms import UploadForm

PERMISSION = "imports.run_import"
SAMPLES = Path(parsers.__file__).resolve().parent / "samples"  # imports/samples/: the layouts, as shipped
ERRORS_SHOWN = 1000
REFRESH_SECONDS = 3
# The sample roster's 事業所番号: replaced by the society's first employer (the file works as shipped).
SAMPLE_EMPLOYER = "E0001"


# Staff with the permission only: others get 403, anonymous users the admin login.
import_permission_required = staff_required(PERMISSION)


def _render(request: HttpRequest, template: str, title: str, context: dict) -> HttpResponse:
    return render(request, template, {**admin.site.each_context(request), "title": title, **context})


@import_permission_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, initial={
        "society": Society.objects.order_by("pk").first(),
    })
    if request.method == "POST" and form.is_valid():
        run = services.import_upload(
            kind=form.cleaned_data["kind"], society=form.cleaned_data["society"],
            upload=form.cleaned_data["file"], user=request.user, request=request,
        )
        return redirect("staff:imports:detail", pk=run.pk)
    return _render(request, "staff/imports/list.html", _("データ取込"), {
        "form": form,
        "runs": ImportRun.objects.select_related("uploaded_by", "confirmed_by")[:20],
        "roster_columns": parsers.ROSTER_COLUMNS,
        "registration_columns": parsers.REGISTRATION_COLUMNS,
        "expiry_days": settings.KENPO_IMPORT_RUN_EXPIRY_DAYS,
    })


def _percent(done: int, total: int) -> int:
    return min(100, int(done * 100 / total)) if total else 0


@import_permission_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun.objects.select_related("uploaded_by", "confirmed_by"), pk=pk)
    if not run.is_running:
        # The preview shows rows of personal data (names, 記号・番号): a read to log.
        # (A page refreshing itself while the job works shows none, and is not logged each time.)
        record(action="view", request=request, obj=run, summary=f"取込 #{run.pk} のプレビューを閲覧")
    progress = services.live_progress(run)
    total = max(run.rows_total, run.row_count)
    steps = [
        {"label": _("読み込んだ行"), "done": progress["read"], "total": total},
        {"label": _("確認した行"), "done": progress["checked"], "total": total},
    ]
    if run.status in (ImportRun.Status.CONFIRMING, ImportRun.Status.CONFIRMED):
        steps.append({"label": _("書き込んだ行"), "done": progress["written"], "total": run.row_count})
    for step in steps:
        step["percent"] = _percent(step["done"], step["total"])
    return _render(request, "staff/imports/detail.html", _("%(kind)sの取込 #%(n)s") % {"kind": run.get_kind_display(), "n": run.pk}, {
        "run": run,
        "steps": steps,
        "refresh_seconds": REFRESH_SECONDS if run.is_running else None,
        "errors_shown": run.errors[:ERRORS_SHOWN],
        "errors_hidden": max(0, run.error_count - min(len(run.errors), ERRORS_SHOWN)),
    })


@import_permission_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    try:
        run = services.request_confirm(run=run, user=request.user, request=request)
    except services.ImportRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("取込を始めました。この画面で進み具合を確認できます（閉じても取込は続きます）。"))
    return redirect("staff:imports:detail", pk=run.pk)


@import_permission_required
@require_POST
def import_restart(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    if services.restart(run=run):
        record(action="import", request=request, obj=run, summary=f"取込 #{run.pk} の処理をやり直し")
        messages.success(request, _("処理をもう一度始めました。"))
    else:
        messages.error(request, _("処理はまだ動いています。しばらく待ってから画面を更新してください。"))
    return redirect("staff:imports:detail", pk=run.pk)


@import_permission_required
def import_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    buffer = io.StringIO()
    writer = csvfiles.writer(buffer)
    writer.writerow(["行", "理由"])
    for error in run.errors:
        writer.writerow([error["line"], error["message"]])
    record(action="download", request=request, obj=run, summary=f"取込 #{run.pk} のエラー一覧",
           details={"rows": len(run.errors)})
    # With a BOM, so that Excel opens it as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-errors.csv"'
    return response


@import_permission_required
def sample_csv(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ImportRun.Kind.values:
        raise Http404
    data = (SAMPLES / f"{kind}.csv").read_text(encoding="utf-8-sig")
    if kind == ImportRun.Kind.ROSTER:
        # The sample names an employer of this society, so that it imports as it is.
        society = Society.objects.order_by("pk").first()
        employer = Employer.objects.filter(society=society).order_by("code").values_list("code", flat=True).first()
        data = data.replace(SAMPLE_EMPLOYER, employer or "")
    response = HttpResponse("\ufeff" + data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-sample.csv"'
    return response
