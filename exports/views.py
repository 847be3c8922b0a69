"""The job's page (progress, then the download link) and the audited download."""

from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from . import registry, services
from .models import ExportJob

REFRESH_SECONDS = 3


def _job_for(request: HttpRequest, pk: int) -> ExportJob:
    """The job, for the staff member who asked for it and still may (404 for anyone else)."""
    job = get_object_or_404(ExportJob, pk=pk, created_by=request.user)
    if not (request.user.is_active and request.user.is_staff
            and request.user.has_perm(registry.get(job.kind).permission)):
        raise PermissionDenied
    return job


def _staff(view):
    """Staff only (anonymous users go to the admin login); the exporter's permission is
    checked per job by ``_job_for``, and the MFA middleware guards /staff/ as a net."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@_staff
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    exporter = registry.get(job.kind)
    total = job.rows_total
    return render(request, "exports/detail.html", {
        **admin.site.each_context(request),
        "title": _("%(label)sのCSV出力 #%(n)s") % {"label": exporter.label, "n": job.pk},
        "job": job,
        "exporter": exporter,
        "percent": min(100, int(job.rows_written * 100 / total)) if total else (100 if job.status == "done" else 0),
        "refresh_seconds": REFRESH_SECONDS if job.is_running else None,
    })


@_staff
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    job = _job_for(request, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404
    services.export_downloaded(job=job, request=request)
    content_type = f"text/csv; charset={'Shift_JIS' if job.encoding == 'cp932' else 'utf-8'}"
    response = FileResponse(job.file.open("rb"), content_type=content_type, as_attachment=True,
                            filename=f"{job.kind}-{job.created_at:%Y-%m-%d}-{job.encoding}.csv")
    return response
