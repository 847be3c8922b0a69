"""Export jobs: streamed to a file with progress, failed with a reason, old files deleted."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from exports import registry, services
from exports.models import ExportJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def numbers():
    def rows(*, params, user):
        for n in range(params["n"]):
            yield [n, "=cmd" if n == 0 else f"行{n}"]

    return registry.register(registry.Exporter(
        name="numbers", label="数の一覧", permission="certificates.export_list", header=["番号", "内容"],
        rows=rows, count=lambda *, params, user: params["n"],
    ))


def test_a_job_streams_every_row_to_a_file_escaped_and_audits_the_count(numbers, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    user = UserFactory(username="clerk", is_staff=True)
    job = services.export_start(kind="numbers", params={"n": 5}, encoding="utf8", user=user)

    job = services.export_run(job_id=job.pk)

    assert (job.status, job.rows_total, job.rows_written) == ("done", 5, 5)
    with job.file.open("rb") as f:
        lines = f.read().decode("utf-8-sig").splitlines()
    assert lines[:2] == ["番号,内容", "0,'=cmd"] and len(lines) == 6
    assert AuditEntry.objects.filter(action="export", details__rows=5).exists()
    assert services.export_run(job_id=job.pk).status == "done"  # a second message changes nothing


def test_a_failing_export_says_so(numbers):
    def broken(*, params, user):
        raise RuntimeError("database gone")
        yield

    registry.register(registry.Exporter(name="broken", label="壊れた一覧", permission="x.y", header=["a"],
                                        rows=broken, count=lambda *, params, user: 1))
    job = services.export_start(kind="broken", params={}, encoding="cp932", user=None)

    job = services.export_run(job_id=job.pk)

    assert job.status == "failed" and "もう一度" in job.failure and not job.file


def test_old_export_files_are_deleted(numbers):
    job = services.export_run(job_id=services.export_start(kind="numbers", params={"n": 1}, encoding="utf8",
                                                           user=None).pk)
    path = job.file.path

    assert services.delete_old_files(now=timezone.now() + timedelta(days=1)) == 0
    assert services.delete_old_files(now=timezone.now() + timedelta(days=3)) == 1
    job.refresh_from_db()
    assert job.status == ExportJob.Status.EXPIRED and not job.file
    import os

    assert not os.path.exists(path)
