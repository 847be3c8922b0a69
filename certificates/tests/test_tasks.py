"""Real Celery workers on Redis render batches; a worker killed mid-batch loses nothing
and issues nobody twice."""

import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from certificates import services
from certificates.models import BatchItem, EligibilityCertificate, IssueBatch, PrintFile
from certificates.selectors import ex_officio_candidates
from eligibility.selectors import today
from tests.factories import EmployerFactory, HouseholdFactory, PersonFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]


def _population(n: int) -> None:
    employers = [EmployerFactory(code=f"W{i:04d}", name=f"事業所{i}") for i in range(3)]
    for i in range(n):
        employer = employers[i % 3]
        PersonFactory(household=HouseholdFactory(employer=employer, society=employer.society),
                      given_name=f"加入者{i}")  # no card facts: status no_card


def _wait(predicate, *, timeout: float, what: str, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    output = "\n".join(p.stdout.read() if p.poll() is not None else "(running)" for p in procs)
    pytest.fail(f"timed out waiting for {what}\n{output[-3000:]}")


def _batch_done(batch_id: int) -> bool:
    return IssueBatch.objects.get(pk=batch_id).status == IssueBatch.Status.DONE


def _each_person_issued_once(batch: IssueBatch, n: int) -> None:
    per_person = EligibilityCertificate.objects.values("person").annotate(n=Count("pk"))
    assert per_person.count() == n
    assert {row["n"] for row in per_person} == {1}  # not even a voided duplicate
    assert EligibilityCertificate.objects.filter(batch=batch, status="rendered").count() == n
    for print_file in batch.print_files.all():  # chunks share their fonts: #12's 10 KB a page
        assert os.path.getsize(print_file.pdf.path) <= 10 * 1024 * print_file.pages


def test_a_batch_of_50_is_rendered_by_a_real_worker(celery_worker_process):
    _population(50)
    worker = celery_worker_process(queues="pdf")
    batch = services.batch_start(candidates=ex_officio_candidates(today=today()), started_by=None)
    assert batch.total == 50
    _wait(lambda: _batch_done(batch.pk), timeout=180, what="the batch", procs=[worker])
    batch.refresh_from_db()
    assert (batch.rendered_count, batch.failed_count, batch.remaining) == (50, 0, 0)
    _each_person_issued_once(batch, 50)
    (print_file,) = batch.print_files.all()
    assert print_file.pages == 50 + 3  # a cover sheet per employer
    assert print_file.certificate_count == 50


def _children(pid: int) -> list[int]:
    """Child processes of ``pid``, from /proc (no procps needed)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            # Field 4, after the parenthesised command name, is the parent's pid.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool processes: no warm shutdown, no ack."""
    pool = _children(proc.pid)
    assert pool, "the prefork pool process"
    for pid in [*pool, proc.pid]:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


def test_a_worker_killed_mid_batch_and_restarted_issues_each_person_exactly_once(celery_worker_process):
    _population(50)
    worker = celery_worker_process(queues="pdf")
    batch = services.batch_start(candidates=ex_officio_candidates(today=today()), started_by=None)

    def rendering() -> bool:
        return PrintFile.objects.filter(batch=batch, rendered_at__isnull=True).exists()

    _wait(rendering, timeout=120, what="the print file's render", procs=[worker])
    _kill_hard(worker)
    assert not _batch_done(batch.pk)
    assert BatchItem.objects.filter(batch=batch, state="rendered").count() == 0

    restarted = celery_worker_process(queues="pdf")
    # The beat task finds the batch without progress; issuing again issues nobody twice.
    assert services.batches_resume_stalled(now=timezone.now() + timedelta(minutes=20)) == [batch.pk]
    _wait(lambda: _batch_done(batch.pk), timeout=180, what="the resumed batch", procs=[restarted])
    _each_person_issued_once(batch, 50)
    assert batch.print_files.get().certificate_count == 50
