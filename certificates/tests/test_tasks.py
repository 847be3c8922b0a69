"""Real Celery workers on Redis render batches; a worker killed mid-batch loses nothing
and issues nobody twice."""

import os
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from certificates import services
from certificates.models import BatchItem, EligibilityCertificate, IssueBatch, PrintFile
from certificates.selectors import ex_officio_candidates
from eligibility.selectors import today
from tests.factories import CardFactsFactory, EmployerFactory, HouseholdFactory, PersonFactory
from tests.workers import kill_hard, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]


def _population(n: int) -> None:
    employers = [EmployerFactory(code=f"W{i:04d}", name=f"事業所{i}") for i in range(3)]
    for i in range(n):
        employer = employers[i % 3]
        person = PersonFactory(household=HouseholdFactory(employer=employer, society=employer.society),
                               given_name=f"加入者{i}")
        CardFactsFactory(person=person, has_card=False, registered=False)  # no card: R6.1



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
    wait_until(lambda: _batch_done(batch.pk), timeout=180, what="the batch", procs=[worker])
    batch.refresh_from_db()
    assert (batch.rendered_count, batch.failed_count, batch.remaining) == (50, 0, 0)
    _each_person_issued_once(batch, 50)
    files = list(batch.print_files.all())
    assert len(files) == 3 and sum(f.pages for f in files) == 50 + 3  # a file and a cover sheet per employer
    assert sum(f.certificate_count for f in files) == 50




def test_a_worker_killed_mid_batch_and_restarted_issues_each_person_exactly_once(celery_worker_process):
    _population(50)
    worker = celery_worker_process(queues="pdf")
    batch = services.batch_start(candidates=ex_officio_candidates(today=today()), started_by=None)

    def rendering() -> bool:
        return PrintFile.objects.filter(batch=batch, rendered_at__isnull=True).exists()

    wait_until(rendering, timeout=120, what="the print file's render", procs=[worker])
    kill_hard(worker)
    assert not _batch_done(batch.pk)
    assert BatchItem.objects.filter(batch=batch, state="rendered").count() == 0

    restarted = celery_worker_process(queues="pdf")
    # The beat task finds the batch without progress; issuing again issues nobody twice.
    assert services.batches_resume_stalled(now=timezone.now() + timedelta(minutes=20)) == [batch.pk]
    wait_until(lambda: _batch_done(batch.pk), timeout=180, what="the resumed batch", procs=[restarted])
    _each_person_issued_once(batch, 50)
    files = list(batch.print_files.all())  # one file per employer (never two employers in one file)
    assert len(files) == 3 and sum(f.certificate_count for f in files) == 50
