"""Real Celery workers on Redis render batches; a worker killed mid-batch loses nothing
and issues nobody twice."""

import os
import time
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


def _each_person_issued_once(batch: IssueBatch, n: int, *, sizes: bool = True) -> None:
    per_person = EligibilityCertificate.objects.values("person").annotate(n=Count("pk"))
    assert per_person.count() == n
    assert {row["n"] for row in per_person} == {1}  # not even a voided duplicate
    assert EligibilityCertificate.objects.filter(batch=batch, status="rendered").count() == n
    for print_file in batch.print_files.all() if sizes else ():  # chunks share their fonts: #12's 10 KB a page
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


def _psycopg2():
    import psycopg2
    from django.db import connection

    db = connection.settings_dict
    return psycopg2.connect(dbname=db["NAME"], user=db["USER"] or "postgres", host=db["HOST"] or "127.0.0.1",
                            port=db["PORT"] or 5432)


def test_a_claim_holder_frozen_in_the_issue_transaction_and_thawed_after_a_takeover_overwrites_nothing(
        celery_worker_process):
    """Issue 27, break 4: a worker frozen inside the issue transaction past its lease, then
    thawed, issued its certificates while the worker that took over marked the same items
    「有効な資格確認書を既に持っています」 (skipped, with a certificate attached)."""
    import signal

    from certificates import tasks
    from eligibility.models import Person
    from tests.workers import signal_tree

    _population(20)
    lease = {"KENPO_BATCH_CLAIM_SECONDS": "2"}
    batch = services.batch_start(candidates=ex_officio_candidates(today=today()), started_by=None)
    holder = _psycopg2()  # holds every person's row lock: the first worker waits inside its transaction
    with holder.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Person._meta.db_table} FOR NO KEY UPDATE")
    first = celery_worker_process(queues="pdf", extra_env=lease)
    watcher = _psycopg2()
    watcher.autocommit = True

    def waiting_for_a_lock(workers: int = 1) -> bool:
        with watcher.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock'")
            return cursor.fetchone()[0] >= workers

    wait_until(waiting_for_a_lock, timeout=60, what="the first worker inside its issue transaction", procs=[first])
    signal_tree(first, signal.SIGSTOP)
    try:
        time.sleep(2.5)  # past the claim's lease on every clock
        second = celery_worker_process(queues="pdf", extra_env=lease)
        item_ids = list(BatchItem.objects.filter(batch=batch).values_list("pk", flat=True))
        tasks.process_chunk.delay(batch.pk, item_ids)  # the chunk again (redelivered, or resumed)
        # The second worker has taken the items over (and waits for the persons), or waits
        # for the first's rows.
        wait_until(lambda: waiting_for_a_lock(2), timeout=60, what="the second worker", procs=[second])
        holder.rollback()  # the first worker gets its persons' locks… while frozen
    finally:
        signal_tree(first, signal.SIGCONT)  # …and is thawed
    holder.close()
    wait_until(lambda: _batch_done(batch.pk), timeout=180, what="the batch", procs=[first, second])
    watcher.close()
    assert not BatchItem.objects.filter(batch=batch, state="skipped").exists()
    assert not BatchItem.objects.filter(batch=batch).exclude(error="").exists()
    assert not BatchItem.objects.filter(batch=batch, certificate__isnull=True).exists()
    _each_person_issued_once(batch, 20, sizes=False)  # (sizes: the first test's concern)


def _files_under(folder: str) -> set[str]:
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in (root / folder).rglob("*") if p.is_file()}


def test_a_render_killed_between_writing_its_pdf_and_the_commit_leaves_no_file_nobody_names(celery_worker_process):
    """Issue 27, break 3: the print file was saved inside the transaction before its row was
    updated; a kill before the commit left the PDF (certificate sheets) on disk for ever and
    the re-render saved a suffixed copy beside it."""
    from core.files import sweep

    _population(10)
    worker = celery_worker_process(queues="pdf")
    batch = services.batch_start(candidates=ex_officio_candidates(today=today()), started_by=None)
    wait_until(lambda: PrintFile.objects.filter(batch=batch).exists(), timeout=120, what="the planned print file",
               procs=[worker])
    holder = _psycopg2()  # the render's commit waits for the certificates' rows: after its PDF is written
    with holder.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {EligibilityCertificate._meta.db_table} FOR UPDATE")
    watcher = _psycopg2()
    watcher.autocommit = True

    def committing() -> bool:
        with watcher.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock'")
            return cursor.fetchone()[0] > 0

    wait_until(committing, timeout=120, what="the render's commit", procs=[worker])
    kill_hard(worker)  # between the file's write and the commit
    holder.rollback()
    holder.close()
    watcher.close()
    written = _files_under("print")
    assert written, "the PDF was written before the kill"
    named = set(PrintFile.objects.exclude(pdf="").values_list("pdf", flat=True))
    assert written <= named  # every file on disk is named by its row

    restarted = celery_worker_process(queues="pdf")
    assert services.batches_resume_stalled(now=timezone.now() + timedelta(minutes=20)) == [batch.pk]
    wait_until(lambda: _batch_done(batch.pk), timeout=180, what="the resumed batch", procs=[restarted])
    _each_person_issued_once(batch, 10, sizes=False)
    assert _files_under("print") == set(PrintFile.objects.values_list("pdf", flat=True))  # no copy beside it
    assert sweep(folder="print", referenced=PrintFile.objects.values_list("pdf", flat=True),
                 now=timezone.now() + timedelta(hours=2)) == []
