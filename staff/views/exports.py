"""Starting an export (the lists link here), the job's page (progress, then the download
link) and the audited download. Staff only (``staff.access.staff_required``); the
exporter's own permission is checked for each job."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from exports import registry, services
from exports.models import ExportJob

from ..access import staff_required

REFRESH_SECONDS = 3


def _job_for(request: HttpRequest, pk: int) -> ExportJob:
    """The job, for the staff member who asked for it and still may (404 for anyone else)."""
    job = get_object_or_404(ExportJob, pk=pk, created_by=request.user)
    if not (request.user.is_active and request.user.is_staff
            and request.user.has_perm(registry.get(job.kind).permission)):
        raise PermissionDenied
    return job


@staff_required()
def export_start(request: HttpRequest, kind: str, encoding: str) -> HttpResponse:
    """Queue the export of the list ``kind`` for the filter in the query string (``ids`` = the
    rows staff selected) and show its page. The lists link here (GET): a page with one
    button; only its POST (CSRF-checked) starts the job, so a link from another site
    starts nothing (issue 24, 8)."""
    try:
        exporter = registry.get(kind)
    except KeyError:
        raise Http404 from None
    if encoding not in services.ENCODINGS or not request.user.has_perm(exporter.permission):
        raise PermissionDenied
    query = request.GET.copy()
    ids = [int(pk) for pk in query.pop("ids", []) if pk.isdigit()] or None
    params = {"query": query.urlencode(), "ids": ids}
    if not exporter.readable(params=params, user=request.user):
        messages.error(request, _("絞り込みの条件が読み取れません。一覧から選び直してください。"))
        return redirect(exporter.back_url)
    if request.method != "POST":
        return render(request, "staff/exports/start.html", {
            **admin.site.each_context(request),
            "title": _("%(label)sのCSV出力") % {"label": exporter.label},
            "exporter": exporter,
            "selected": len(ids or []),
        })
    try:
        job = services.export_start(kind=kind, params=params, encoding=encoding, user=request.user, request=request)
    except services.TooManyExports:
        messages.error(request, _("出力が混み合っています。進行中の出力が終わってから、もう一度お試しください。"))
        return redirect(exporter.back_url)
    return redirect("staff:exports:detail", job.pk)


@staff_required()
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    exporter = registry.get(job.kind)
    total = job.rows_total
    return render(request, "staff/exports/detail.html", {
        **admin.site.each_context(request),
        "title": _("%(label)sのCSV出力 #%(n)s") % {"label": exporter.label, "n": job.pk},
        "job": job,
        "exporter": exporter,
        "percent": min(100, int(job.rows_written * 100 / total)) if total else (100 if job.status == "done" else 0),
        "refresh_seconds": REFRESH_SECONDS if job.is_running else None,
    })


@staff_required()
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    job = _job_for(request, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404
    services.export_downloaded(job=job, request=request)
    content_type = f"text/csv; charset={'Shift_JIS' if job.encoding == 'cp932' else 'utf-8'}"
    response = FileResponse(job.file.open("rb"), content_type=content_type, as_attachment=True,
                            # The day in Japan (Asia/Tokyo), not UTC's: an export at 08:00 JST is today's.
                            filename=f"{job.kind}-{timezone.localtime(job.created_at):%Y-%m-%d}-{job.encoding}.csv")
    return response
