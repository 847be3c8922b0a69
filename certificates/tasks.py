"""Celery tasks (queue ``pdf``, routed in settings): thin interfaces over ``services``.

Tasks take ids and are idempotent: a chunk delivered twice, or re-queued by
``resume_stalled_batches`` after a worker died, issues and renders nobody twice.
"""

from celery import shared_task
from celery.signals import worker_init
from django.db import OperationalError

from . import services


@worker_init.connect
def refuse_to_start_without_harfbuzz_subset(**kwargs) -> None:
    """Fail fast: without libharfbuzz-subset WeasyPrint silently uses a ~40x slower subsetter."""
    from .pdf import harfbuzz_subset_available

    if not harfbuzz_subset_available():
        raise SystemExit(
            "libharfbuzz-subset is missing (Debian: apt-get install libharfbuzz-subset0); "
            "refusing to start a worker that would render PDFs ~40x slower."
        )


@shared_task(name="certificates.tasks.start_batch")
def start_batch(batch_id: int) -> int:
    chunks = services.batch_chunks(batch_id=batch_id)
    for chunk in chunks:
        process_chunk.delay(batch_id, chunk)
    if not chunks:
        services.batch_refresh(batch_id=batch_id)
    return len(chunks)


@shared_task(name="certificates.tasks.process_chunk", autoretry_for=(OperationalError,), max_retries=3,
             retry_backoff=True)
def process_chunk(batch_id: int, item_ids: list[int]) -> int:
    return services.batch_process_chunk(batch_id=batch_id, item_ids=item_ids)


@shared_task(name="certificates.tasks.assemble_print_files")
def assemble_print_files(batch_id: int) -> int:
    """Plan a batch's print files (only certificates not in one yet) and queue their renders."""
    return services.batch_assemble_print_files(batch_id=batch_id)


@shared_task(name="certificates.tasks.assemble_print_file", autoretry_for=(Exception,), max_retries=3,
             retry_backoff=30)
def assemble_print_file(print_file_id: int) -> int:
    """Render one print file; a failure is recorded on the file (staff see it) and retried."""
    return services.print_file_assemble(print_file_id=print_file_id)


@shared_task(name="certificates.tasks.make_daily_print_files")
def make_daily_print_files() -> int:
    """Daily (and on demand from the admin): certificates issued one at a time go into the
    day's print file of their delivery route."""
    from eligibility.selectors import today

    return services.daily_print_files_make(day=today())


@shared_task(name="certificates.tasks.propose_monthly_run")
def propose_monthly_run() -> int:
    """Monthly (the 1st): propose the ex-officio run of the people new on the list since the
    last batch; the dashboard shows it and links to the list with that filter."""
    from eligibility.selectors import today

    return services.propose_monthly_run(today=today()).pk


@shared_task(name="certificates.tasks.resume_stalled_batches")
def resume_stalled_batches() -> list[int]:
    return services.batches_resume_stalled()


@shared_task(name="certificates.tasks.void_ended_eligibility")
def void_ended_eligibility() -> int:
    """Daily: certificates of people who left the society stop being valid (R8)."""
    from eligibility.selectors import today

    return services.certificates_void_ended_eligibility(today=today())


@shared_task(name="certificates.tasks.remind_unconfirmed_packets")
def remind_unconfirmed_packets() -> int:
    return services.packets.packets_remind()
