"""Writes of the exports: queue a job, stream its rows to a file, hand the file out (audited)."""

import logging
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from audit.services import record
from core import csvfiles

from . import registry
from .models import ExportJob

logger = logging.getLogger(__name__)

ENCODINGS = {"utf8": "utf-8", "cp932": "cp932"}
PROGRESS_EVERY = 2000


class TooManyExports(Exception):
    """The login already has enough exports waiting, or started enough this hour."""


def refuse_too_many(*, user) -> None:
    """Each export is a job over the whole society: a login has at most
    ``KENPO_EXPORT_MAX_UNFINISHED`` waiting or running and starts at most
    ``KENPO_EXPORT_MAX_PER_HOUR`` an hour (issue 24: fuzzing made 130)."""
    mine = ExportJob.objects.filter(created_by=user)
    unfinished = mine.filter(status__in=(ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)).count()
    if unfinished >= settings.KENPO_EXPORT_MAX_UNFINISHED:
        raise TooManyExports("unfinished")
    if mine.filter(created_at__gte=timezone.now() - timedelta(hours=1)).count() >= settings.KENPO_EXPORT_MAX_PER_HOUR:
        raise TooManyExports("per hour")


def export_start(*, kind: str, params: dict, encoding: str, user, request=None) -> ExportJob:
    """Queue an export of ``kind`` with ``params``; the file is written by a job.
    Raises ``TooManyExports`` past the limits (``refuse_too_many``)."""
    from . import tasks

    exporter = registry.get(kind)
    if encoding not in ENCODINGS:
        raise ValueError(encoding)
    if user is not None:
        refuse_too_many(user=user)
    job = ExportJob.objects.create(kind=kind, params=params, encoding=encoding, created_by=user)
    record(action="export", request=request, actor=user, obj=job,
           summary=f"{exporter.label}のCSV出力を開始（{encoding}）",
           details={"filter": str(params.get("query", ""))[:500], "selected": len(params.get("ids") or [])})
    transaction.on_commit(lambda: tasks.run_export.delay(job.pk))
    return job


def export_run(*, job_id: int) -> ExportJob:
    """Stream the rows to a file, counting as it goes (the background job)."""
    now = timezone.now()
    if not ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=now
    ):
        return ExportJob.objects.get(pk=job_id)
    job = ExportJob.objects.get(pk=job_id)
    exporter = registry.get(job.kind)
    codec = ENCODINGS[job.encoding]
    try:
        job.rows_total = exporter.count(params=job.params, user=job.created_by)
        ExportJob.objects.filter(pk=job.pk).update(rows_total=job.rows_total)
        written = 0
        with tempfile.TemporaryFile() as tmp:
            writer = csvfiles.writer(csvfiles.Echo())
            # Excel opens UTF-8 CSV correctly only with a BOM; CP932 replaces what it cannot encode.
            if codec == "utf-8":
                tmp.write("\ufeff".encode())
            tmp.write(writer.writerow(exporter.header).encode(codec, errors="replace"))
            for row in exporter.rows(params=job.params, user=job.created_by):
                tmp.write(writer.writerow(row).encode(codec, errors="replace"))
                written += 1
                if written % PROGRESS_EVERY == 0:
                    ExportJob.objects.filter(pk=job.pk).update(rows_written=written)
            tmp.seek(0)
            job.file.save(f"{job.kind}-{job.pk}-{job.encoding}.csv", File(tmp), save=False)
        job.rows_written = written
        job.status = ExportJob.Status.DONE
    except Exception:
        logger.exception("export %s failed", job_id)
        job.status, job.failure = ExportJob.Status.FAILED, "出力中にエラーが起きました。もう一度お試しください。"
    job.finished_at = timezone.now()
    job.save(update_fields=["file", "rows_written", "status", "failure", "finished_at"])
    if job.status == ExportJob.Status.DONE:
        record(action="export", actor=job.created_by, obj=job,
               summary=f"{exporter.label}をCSVに出力（{job.rows_written}行）",
               details={"rows": job.rows_written, "filter": str(job.params.get("query", ""))[:500]})
    return job


def export_downloaded(*, job: ExportJob, request) -> None:
    record(action="download", request=request, obj=job,
           summary=f"{registry.get(job.kind).label}のCSVをダウンロード（{job.rows_written}行）",
           details={"rows": job.rows_written, "filter": str(job.params.get("query", ""))[:500]})


def delete_old_files(*, now=None) -> int:
    """Export files are personal data: deleted after KENPO_EXPORT_KEEP_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.KENPO_EXPORT_KEEP_DAYS)
    deleted = 0
    for job in ExportJob.objects.filter(created_at__lt=cutoff).exclude(status=ExportJob.Status.EXPIRED):
        if job.file:
            job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.EXPIRED, file="")
        deleted += 1
    return deleted
