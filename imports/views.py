"""Staff pages to upload a CSV file, preview what it changes, and confirm it."""

import csv
import io
from pathlib import Path

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import record
from core.access import staff_required
from eligibility.models import Society

from . import parsers
from .forms import UploadForm
from .models import ImportRun
from .services import ImportRefused, import_preview
from .services import import_confirm as confirm_run
from .signals import imported

PERMISSION = "imports.run_import"
SAMPLES = Path(__file__).resolve().parent / "samples"
ERRORS_SHOWN = 1000


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
        run = import_preview(
            kind=form.cleaned_data["kind"], society=form.cleaned_data["society"],
            data=form.cleaned_data["file"].read(), user=request.user, request=request,
        )
        return redirect("staff:imports:detail", pk=run.pk)
    return _render(request, "imports/list.html", _("データ取込"), {
        "form": form,
        "runs": ImportRun.objects.select_related("uploaded_by", "confirmed_by")[:20],
        "roster_columns": parsers.ROSTER_COLUMNS,
        "registration_columns": parsers.REGISTRATION_COLUMNS,
    })


@import_permission_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun.objects.select_related("uploaded_by", "confirmed_by"), pk=pk)
    # The preview shows rows of personal data (names, 記号・番号): a read to log.
    record(action="view", request=request, obj=run, summary=f"取込 #{run.pk} のプレビューを閲覧")
    return _render(request, "imports/detail.html", _("%(kind)sの取込 #%(n)s") % {"kind": run.get_kind_display(), "n": run.pk}, {
        "run": run,
        "errors_shown": run.errors[:ERRORS_SHOWN],
        "errors_hidden": max(0, len(run.errors) - ERRORS_SHOWN),
    })


@import_permission_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    try:
        run = confirm_run(run=run, user=request.user, request=request)
    except ImportRefused as exc:
        messages.error(request, str(exc))
    else:
        imported.send(sender=ImportRun, run=run)  # the dashboard's counts follow the import
        if run.changes:
            messages.success(request, "取り込みました。")
        else:
            messages.success(request, "変更なし: すでに取り込まれている内容です。")
    return redirect("staff:imports:detail", pk=run.pk)


@import_permission_required
def import_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun, pk=pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["行", "理由"])
    for error in run.errors:
        writer.writerow([error["line"], error["message"]])
    record(action="download", request=request, obj=run, summary=f"取込 #{run.pk} のエラー一覧")
    # With a BOM, so that Excel opens it as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-errors.csv"'
    return response


@import_permission_required
def sample_csv(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ImportRun.Kind.values:
        raise Http404
    data = (SAMPLES / f"{kind}.csv").read_bytes()
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-sample.csv"'
    return response
