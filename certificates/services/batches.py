"""Writes of ex-officio batches: start, chunks claimed and issued, progress, retry, resume.

Items are claimed with a conditional UPDATE, so a chunk delivered twice, or resumed
after a worker died, issues nobody twice.
"""

import logging
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from approvals.models import Approval
from approvals.services import approval_request, four_eyes
from audit.services import record
from eligibility.models import Person
from eligibility.selectors import today as local_today

from ..models import (
    Basis,
    BatchItem,
    EligibilityCertificate,
    ExOfficioProposal,
    IllegalTransition,
    IssueBatch,
    PrintFile,
)
from .certificates import _new_certificates, _void_current, mailing_problem

log = logging.getLogger(__name__)
Cert = EligibilityCertificate
# Persons issued per task (set-based INSERTs; the PDFs are made per print file).
CHUNK_SIZE = 200
FIRST_CHUNK_SIZE = 20


@transaction.atomic
def batch_start(*, candidates: QuerySet[Person], started_by, filter_description: str = "", filter_query: str = "",
                request=None) -> IssueBatch:
    """Start a batch for the candidates (rows annotated with ``basis`` by
    ``selectors.ex_officio_candidates``): one INSERT … SELECT, whatever their number."""
    batch = IssueBatch.objects.create(
        started_by=started_by, filter_description=filter_description[:500], filter_query=filter_query[:1000],
        last_progress_at=timezone.now(),
    )
    rows = candidates.order_by().annotate(candidate_id=F("pk")).values("candidate_id", "basis")
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        # The sub-query is the ORM's own SQL, its parameters bound: nothing user-typed is spliced in.
        insert = f"INSERT INTO {BatchItem._meta.db_table} (batch_id, person_id, basis, state, error, claim_token) SELECT %s, sub.candidate_id, sub.basis, %s, '', '' FROM ({sql}) sub"  # noqa: S608
        cursor.execute(insert, (batch.pk, BatchItem.State.PENDING, *params))
    batch.total = batch.items.count()
    # Four eyes: a batch of more than KENPO_FOUR_EYES_BATCH_OVER waits for a second staff member.
    waits = four_eyes() and batch.total > settings.KENPO_FOUR_EYES_BATCH_OVER
    if waits:
        batch.status = IssueBatch.Status.AWAITING
    batch.save(update_fields=["total", "status"])
    record(action="issue", request=request, actor=started_by, obj=batch,
           summary=f"職権交付のバッチを開始（{batch.total}人）", details={"filter": filter_query[:500]})
    if waits:
        approval_request(kind=Approval.Kind.BATCH, target_id=batch.pk, by=started_by, request=request,
                         summary=f"職権交付のバッチ #{batch.pk}（{batch.total:,}人）: {batch.filter_description}")
        return batch
    from .. import tasks

    transaction.on_commit(lambda: tasks.start_batch.delay(batch.pk))
    return batch


def batch_approved(*, batch_id: int) -> IssueBatch:
    """A second staff member approved a batch waiting for it: it starts."""
    from .. import tasks

    if not IssueBatch.objects.filter(pk=batch_id, status=IssueBatch.Status.AWAITING).update(
            status=IssueBatch.Status.RUNNING, last_progress_at=timezone.now()):
        raise IllegalTransition("the batch is not awaiting approval")
    transaction.on_commit(lambda: tasks.start_batch.delay(batch_id))
    return IssueBatch.objects.get(pk=batch_id)


def batch_sent_back(*, batch_id: int) -> None:
    """The approval was refused: the batch is cancelled and issues nobody."""
    if IssueBatch.objects.filter(pk=batch_id, status=IssueBatch.Status.AWAITING).update(
            status=IssueBatch.Status.CANCELLED, finished_at=timezone.now()):
        BatchItem.objects.filter(batch_id=batch_id, state=BatchItem.State.PENDING).update(
            state=BatchItem.State.SKIPPED, error="決裁で差し戻し")
        batch_refresh(batch_id=batch_id)


def batch_chunks(*, batch_id: int, states=(BatchItem.State.PENDING,)) -> list[list[int]]:
    ids = list(
        BatchItem.objects.filter(batch_id=batch_id, state__in=states)
        .order_by("pk").values_list("pk", flat=True)
    )
    # A small first chunk: the batch's page shows progress within a second of the start.
    first = ids[:FIRST_CHUNK_SIZE]
    rest = ids[FIRST_CHUNK_SIZE:]
    return ([first] if first else []) + [rest[i:i + CHUNK_SIZE] for i in range(0, len(rest), CHUNK_SIZE)]


def _lease() -> timedelta:
    # Longer than a task may live, so a live worker never loses its claim.
    return timedelta(seconds=settings.KENPO_BATCH_CLAIM_SECONDS)


def batch_process_chunk(*, batch_id: int, item_ids: list[int], today: date | None = None) -> int:
    """Issue the certificates of one chunk's items (their PDFs are made with the batch's
    print files). Idempotent and resumable: items are claimed with a conditional UPDATE."""
    today = today or local_today()
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        BatchItem.objects.filter(batch_id=batch_id, pk__in=item_ids, state=BatchItem.State.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claim_token=token, claimed_until=now + _lease())
    )
    if not claimed:
        return 0
    batch = IssueBatch.objects.get(pk=batch_id)
    _issue_claimed(batch=batch, token=token, today=today)
    done = BatchItem.objects.filter(claim_token=token, state=BatchItem.State.ISSUED).count()
    BatchItem.objects.filter(claim_token=token).update(claim_token="", claimed_until=None)
    batch_refresh(batch_id=batch_id)
    return done


def _issue_claimed(*, batch: IssueBatch, token: str, today: date) -> None:
    """Create the certificates of the claimed, not yet issued items: one bulk INSERT."""
    items = list(BatchItem.objects.filter(claim_token=token, state=BatchItem.State.PENDING))
    if not items:
        return
    try:
        with transaction.atomic():
            _issue_items(batch=batch, items=items, token=token, today=today)
    except IntegrityError:
        # Someone got a certificate meanwhile (e.g. a request was approved): one by one.
        for item in items:
            try:
                with transaction.atomic():
                    _issue_items(batch=batch, items=[item], token=token, today=today)
            except IntegrityError:
                BatchItem.objects.filter(pk=item.pk, claim_token=token, state=BatchItem.State.PENDING).update(
                    state=BatchItem.State.SKIPPED, error="有効な資格確認書を既に持っています"
                )


def _issue_items(*, batch: IssueBatch, items: list[BatchItem], token: str, today: date) -> None:
    """Every write is conditioned on the claim (issue 27): the items still claimed with
    ``token`` are locked first, so a worker that lost its claim (frozen past the lease, then
    thawed) writes nothing, and a worker taking over waits for a holder still inside."""
    held = set(BatchItem.objects.select_for_update().filter(
        pk__in=[i.pk for i in items], claim_token=token, state=BatchItem.State.PENDING).values_list("pk", flat=True))
    items = [i for i in items if i.pk in held]
    if not items:
        return
    person_ids = [i.person_id for i in items]
    # Locked in id order, so two overlapping batches wait for each other instead of deadlocking.
    persons = {p.pk: p for p in Person.objects.filter(pk__in=person_ids).order_by("pk")
               .select_related("household__society", "household__employer").select_for_update(of=("self",))}
    from ..selectors import renewal_horizon, valid_certificates

    # R6.5: a certificate due for renewal does not hold back its renewal (it is replaced below).
    renewing = [i.person_id for i in items if i.basis == Basis.RENEWAL]
    holding = set(valid_certificates(today=today).filter(person_id__in=person_ids)
                  .exclude(person_id__in=renewing, valid_until__lte=renewal_horizon(today=today))
                  .values_list("person_id", flat=True))
    not_eligible = {pk for pk, p in persons.items() if not p.is_eligible_on(today)}
    unmailable = {pk: problem for pk, p in persons.items() if (problem := mailing_problem(p))}
    skip = {i.pk: ("有効な資格確認書を既に持っています" if i.person_id in holding
                   else "資格がありません" if i.person_id in not_eligible else unmailable[i.person_id])
            for i in items if i.person_id in holding | not_eligible | unmailable.keys()}
    for item_id, reason in skip.items():
        BatchItem.objects.filter(pk=item_id, claim_token=token).update(state=BatchItem.State.SKIPPED, error=reason)
    todo = [i for i in items if i.pk not in skip]
    if not todo:
        return
    # Certificates due for renewal are voided as 更新; expired (but not voided) ones as replaced.
    renewed = [i.person_id for i in todo if i.basis == Basis.RENEWAL]
    _void_current(person_ids=renewed, by=batch.started_by, reason=Cert.VoidReason.RENEWED)
    _void_current(person_ids=[i.person_id for i in todo if i.person_id not in renewed], by=batch.started_by,
                  reason=Cert.VoidReason.REPLACED)
    certificates = _new_certificates(
        persons=[persons[i.person_id] for i in todo], bases={i.person_id: i.basis for i in todo},
        issued_by=batch.started_by, today=today, batch=batch,
    )
    Cert.objects.bulk_create(certificates)
    for item, certificate in zip(todo, certificates, strict=True):
        item.certificate = certificate
        item.state = BatchItem.State.ISSUED
    # The rows are locked and ours (above); bulk_update by pk cannot meet another claim's.
    BatchItem.objects.bulk_update(todo, ["certificate", "state"])


def batch_refresh(*, batch_id: int) -> IssueBatch:
    """Recount a batch from its items; the last chunk hands over to assembling print files."""
    from ..selectors import batch_state_counts

    counts = batch_state_counts(batch_id=batch_id)
    IssueBatch.objects.filter(pk=batch_id).update(
        rendered_count=counts.get(BatchItem.State.RENDERED, 0),
        failed_count=counts.get(BatchItem.State.FAILED, 0),
        skipped_count=counts.get(BatchItem.State.SKIPPED, 0),
        last_progress_at=timezone.now(),
    )
    # Issuing is done once nothing is pending; the print files then render the sheets.
    if counts.get(BatchItem.State.PENDING, 0) == 0:
        moved = IssueBatch.objects.filter(pk=batch_id, status=IssueBatch.Status.RUNNING).update(
            status=IssueBatch.Status.ASSEMBLING
        )
        if moved:
            from .. import tasks

            transaction.on_commit(lambda: tasks.assemble_print_files.delay(batch_id))
    return IssueBatch.objects.get(pk=batch_id)


@transaction.atomic
def batch_retry_failed(*, batch: IssueBatch, by, request=None) -> int:
    """Send the failed items back to work: a certificate that failed to render goes into a
    new print file of the batch (the same certificate, rendered again)."""
    items = BatchItem.objects.filter(batch=batch, state=BatchItem.State.FAILED)
    Cert.objects.filter(batch_item__in=items.filter(certificate__isnull=False)).update(print_file=None,
                                                                                       render_error="")
    retried = items.filter(certificate__isnull=False).update(
        state=BatchItem.State.ISSUED, error="", claim_token="", claimed_until=None
    )
    retried += items.filter(certificate__isnull=True).update(
        state=BatchItem.State.PENDING, error="", claim_token="", claimed_until=None
    )
    if retried:
        IssueBatch.objects.filter(pk=batch.pk).update(status=IssueBatch.Status.RUNNING, finished_at=None)
        record(action="issue", request=request, actor=by, obj=batch, summary=f"失敗した{retried}件を再実行")
        from .. import tasks

        transaction.on_commit(lambda: tasks.start_batch.delay(batch.pk))
    batch_refresh(batch_id=batch.pk)
    return retried


def batches_resume_stalled(*, now=None, stalled_after: timedelta = timedelta(minutes=15)) -> list[int]:
    """Re-queue the open work of batches without progress for ``stalled_after``
    (a worker died, the broker lost a message). Claims are honoured, so nothing runs twice."""
    from .. import tasks

    now = now or timezone.now()
    resumed = []
    for batch in IssueBatch.objects.filter(status__in=(IssueBatch.Status.RUNNING, IssueBatch.Status.ASSEMBLING)).filter(
        last_progress_at__lt=now - stalled_after
    ):
        IssueBatch.objects.filter(pk=batch.pk).update(last_progress_at=timezone.now())
        if batch.status == IssueBatch.Status.ASSEMBLING:
            # Planning again plans only what is in no file yet; unrendered files render again.
            tasks.assemble_print_files.delay(batch.pk)
            for print_file_id in batch.print_files.filter(rendered_at__isnull=True).values_list("pk", flat=True):
                tasks.assemble_print_file.delay(print_file_id)
        else:
            BatchItem.objects.filter(batch=batch, claimed_until__lt=now).update(claim_token="", claimed_until=None)
            for chunk in batch_chunks(batch_id=batch.pk):
                tasks.process_chunk.delay(batch.pk, chunk)
            batch_refresh(batch_id=batch.pk)
        resumed.append(batch.pk)
    # The day's print files whose render message was lost (rendering is idempotent).
    for print_file_id in PrintFile.objects.filter(
        batch__isnull=True, rendered_at__isnull=True, created_at__lt=now - stalled_after
    ).values_list("pk", flat=True)[:1000]:
        tasks.assemble_print_file.delay(print_file_id)
    return resumed




def propose_monthly_run(*, today: date) -> ExOfficioProposal:
    """The month's ex-officio run, proposed (the beat job on the 1st): who is new on the list
    since the last batch, per R6 basis. Staff check the list and start the batch themselves."""
    from ..selectors import (
        counts_per_basis,
        ex_officio_candidates,
        last_batch,
        new_since_last_batch,
    )

    per_basis = counts_per_basis(new_since_last_batch(ex_officio_candidates(today=today)))
    proposal = ExOfficioProposal.objects.create(day=today, since_batch=last_batch(), total=sum(per_basis.values()),
                                                per_basis=per_basis)
    record(action="view", actor=None, obj=proposal, summary=f"職権交付の月次提案（{proposal.total}人）",
           row_count=proposal.total)
    return proposal
