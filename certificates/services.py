"""Writes: issuing and voiding certificates, batches, rendering, requests and review.

Every status change goes through a conditional UPDATE (``WHERE status = old``):
zero rows updated means the move was illegal or someone else made it first.
"""

import logging
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.db.models.fields.json import KT
from django.utils import timezone

from audit.services import record
from eligibility import dashboard_cache, rules
from eligibility.models import Person
from eligibility.selectors import today as local_today

from . import notifications, pdf
from .models import (
    Basis,
    BatchItem,
    EligibilityCertificate,
    IllegalTransition,
    IssueBatch,
    PrintFile,
    ReissueRequest,
    ReissueRequestEvent,
    SerialCounter,
)
from .snapshot import build_snapshot, delivery_route_for

log = logging.getLogger(__name__)
Cert = EligibilityCertificate
CHUNK_SIZE = 25
# Rows of the employer's cover sheet that fit one A4 page (templates/certificates/pdf/cover.html).
COVER_ROWS_PER_PAGE = 30


# --- Certificates ------------------------------------------------------------------


def next_serials(count: int, *, year: int) -> list[str]:
    """``count`` new serial numbers (交付番号), unique across the society: ``2026-0000123``."""
    with transaction.atomic():
        counter, _ = SerialCounter.objects.select_for_update().get_or_create(name="certificate")
        first = counter.value + 1
        counter.value += count
        counter.save(update_fields=["value"])
    return [f"{year}-{n:07d}" for n in range(first, first + count)]


def _insured_by_household(persons: list[Person]) -> dict[int, Person]:
    household_ids = {p.household_id for p in persons}
    insured = Person.objects.filter(household_id__in=household_ids, relationship=Person.Relationship.SELF)
    return {p.household_id: p for p in insured}


def _new_certificates(
    *, persons: list[Person], bases: dict[int, str], issued_by, today: date, batch=None, reissue_request=None
) -> list[Cert]:
    """Build (unsaved) certificates for ``persons``, snapshot included. Persons must have
    ``household__society`` and ``household__employer`` loaded."""
    insured = _insured_by_household(persons)
    serials = next_serials(len(persons), year=today.year)
    now = timezone.now()
    certificates = []
    for person, serial in zip(persons, serials, strict=True):
        valid_until = rules.certificate_valid_until(
            issued_on=today, birth_date=person.birth_date, years=settings.KENPO_CERTIFICATE_VALID_YEARS,
            eligible_until=person.last_eligible_day(),
        )
        certificates.append(
            Cert(
                serial=serial,
                person=person,
                basis=bases[person.pk],
                batch=batch,
                reissue_request=reissue_request,
                issued_on=today,
                valid_until=valid_until,
                delivery_route=delivery_route_for(person.household),
                employer_id=person.household.employer_id,
                snapshot=build_snapshot(
                    person=person,
                    insured=insured.get(person.household_id),
                    serial=serial,
                    issued_on=today,
                    valid_until=valid_until,
                ),
                queued_at=now,
                queued_by=issued_by,
            )
        )
    return certificates


def _void_current(*, person_ids, by, reason: str) -> int:
    """Void every non-void certificate of these persons (replaced, lost, ...)."""
    return (
        Cert.objects.filter(person_id__in=person_ids)
        .exclude(status=Cert.Status.VOID)
        .update(status=Cert.Status.VOID, voided_at=timezone.now(), voided_by=by, void_reason=reason)
    )


def certificates_void_ended_eligibility(*, today: date) -> int:
    """R8: void every certificate whose holder's eligibility has ended (資格喪失, or the
    75th birthday: R11), in one UPDATE."""
    turned_75_by = rules.add_months(today, -12 * rules.LATE_ELDERLY_AGE)
    ended = Person.objects.filter(Q(eligible_until__lte=today) | Q(birth_date__lte=turned_75_by)).values("pk")
    return (
        Cert.objects.filter(person_id__in=ended)
        .exclude(status=Cert.Status.VOID)
        .update(status=Cert.Status.VOID, voided_at=timezone.now(), void_reason=Cert.VoidReason.ELIGIBILITY_ENDED)
    )


@transaction.atomic
def certificate_issue(
    *, person: Person, basis: str, issued_by, reissue_request: ReissueRequest | None = None, today: date | None = None
) -> Cert:
    """Issue one certificate; the person's previous one is voided in the same transaction."""
    today = today or local_today()
    person = Person.objects.select_related("household__society", "household__employer").get(pk=person.pk)
    # Lock the person's row so two issues for one person queue up instead of colliding.
    list(Person.objects.select_for_update().filter(pk=person.pk).values_list("pk"))
    _void_current(person_ids=[person.pk], by=issued_by, reason=Cert.VoidReason.REPLACED)
    (certificate,) = _new_certificates(
        persons=[person], bases={person.pk: basis}, issued_by=issued_by, today=today, reissue_request=reissue_request
    )
    certificate.save()
    return certificate


def certificate_transition(*, certificate: Cert, to: str, by=None, void_reason: str = "") -> Cert:
    """Move one certificate along the state machine, or raise ``IllegalTransition``."""
    moved = certificates_transition(
        queryset=Cert.objects.filter(pk=certificate.pk), from_status=certificate.status, to=to, by=by,
        void_reason=void_reason,
    )
    if moved != 1:
        raise IllegalTransition(f"{certificate.status} → {to}")
    certificate.refresh_from_db()
    return certificate


def certificates_transition(*, queryset: QuerySet[Cert], from_status: str, to: str, by=None, void_reason="") -> int:
    """Set-based move of every certificate in ``queryset`` that is in ``from_status``.

    Returns how many moved; raises ``IllegalTransition`` for a move the machine forbids.
    """
    if to not in Cert.ALLOWED[Cert.Status(from_status)]:
        raise IllegalTransition(f"{from_status} → {to}")
    now = timezone.now()
    fields = {"status": to}
    if to == Cert.Status.RENDERED:
        fields["rendered_at"] = now
    elif to == Cert.Status.PRINTED:
        fields.update(printed_at=now, printed_by=by)
    elif to == Cert.Status.MAILED:
        fields.update(mailed_at=now, mailed_by=by)
    elif to == Cert.Status.VOID:
        fields.update(voided_at=now, voided_by=by, void_reason=void_reason or Cert.VoidReason.ERROR)
    with transaction.atomic():
        ids = list(queryset.filter(status=from_status).values_list("pk", flat=True))
        moved = Cert.objects.filter(pk__in=ids, status=from_status).update(**fields)
        dashboard_cache.forget_persons(Cert.objects.filter(pk__in=ids).values_list("person_id", flat=True))
        if to == Cert.Status.MAILED:
            for req in ReissueRequest.objects.filter(certificates__pk__in=ids).select_related("requested_by"):
                transaction.on_commit(lambda req=req: notifications.certificate_mailed(req))
    return moved


def certificate_render(*, certificate: Cert) -> bool:
    """Render a queued certificate's PDF and mark it rendered. False if it was not queued
    (already rendered, or voided meanwhile): rendering twice is harmless, moving twice is not."""
    if certificate.status != Cert.Status.QUEUED:
        return False
    content = pdf.render_certificates([certificate.snapshot])
    name = f"certificates/{certificate.issued_on:%Y/%m}/{certificate.serial}.pdf"
    if default_storage.exists(name):
        default_storage.delete(name)
    name = default_storage.save(name, ContentFile(content))
    with transaction.atomic():
        moved = Cert.objects.filter(pk=certificate.pk, status=Cert.Status.QUEUED).update(
            status=Cert.Status.RENDERED, pdf=name, rendered_at=timezone.now(), render_error=""
        )
        if moved:
            dashboard_cache.forget_persons([certificate.person_id])
        if moved and certificate.reissue_request_id:
            req = ReissueRequest.objects.select_related("requested_by").get(pk=certificate.reissue_request_id)
            if req.status == ReissueRequest.Status.APPROVED:
                _request_move(request=req, to=ReissueRequest.Status.ISSUED, by=None, note=certificate.serial)
    return bool(moved)


def certificate_render_by_id(certificate_id: int) -> bool:
    certificate = Cert.objects.select_related("reissue_request__requested_by").get(pk=certificate_id)
    try:
        return certificate_render(certificate=certificate)
    except Exception as exc:
        Cert.objects.filter(pk=certificate_id).update(render_error=_describe(exc))
        raise


def _describe(exc: Exception) -> str:
    # Never the snapshot (it holds 記号・番号): the exception's type and message only.
    return f"{type(exc).__name__}: {exc}"[:500]


# --- Batches -------------------------------------------------------------------------


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
    batch.save(update_fields=["total"])
    record(action="issue", request=request, actor=started_by, obj=batch,
           summary=f"職権交付のバッチを開始（{batch.total}人）", details={"filter": filter_query[:500]})
    from . import tasks

    transaction.on_commit(lambda: tasks.start_batch.delay(batch.pk))
    return batch


def batch_chunks(*, batch_id: int, states=(BatchItem.State.PENDING, BatchItem.State.ISSUED)) -> list[list[int]]:
    ids = list(
        BatchItem.objects.filter(batch_id=batch_id, state__in=states)
        .order_by("pk").values_list("pk", flat=True)
    )
    return [ids[i:i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE)]


def _lease() -> timedelta:
    # Longer than a task may live, so a live worker never loses its claim.
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def batch_process_chunk(*, batch_id: int, item_ids: list[int], today: date | None = None) -> int:
    """Issue and render the items of one chunk. Idempotent and resumable: items are
    claimed with a conditional UPDATE; an item already issued is only rendered."""
    today = today or local_today()
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        BatchItem.objects.filter(batch_id=batch_id, pk__in=item_ids,
                                 state__in=[BatchItem.State.PENDING, BatchItem.State.ISSUED])
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claim_token=token, claimed_until=now + _lease())
    )
    if not claimed:
        return 0
    batch = IssueBatch.objects.get(pk=batch_id)
    _issue_claimed(batch=batch, token=token, today=today)
    done = 0
    items = BatchItem.objects.filter(claim_token=token, state=BatchItem.State.ISSUED).select_related(
        "certificate__reissue_request"
    )
    for item in items.order_by("pk"):
        try:
            if item.certificate.status == Cert.Status.QUEUED:
                certificate_render(certificate=item.certificate)
            state, error = BatchItem.State.RENDERED, ""
            done += 1
        except Exception as exc:  # one bad sheet must not stop the batch
            log.exception("certificate render failed (batch %s, item %s)", batch_id, item.pk)
            state, error = BatchItem.State.FAILED, _describe(exc)
            Cert.objects.filter(pk=item.certificate_id).update(render_error=error)
        BatchItem.objects.filter(pk=item.pk, claim_token=token).update(state=state, error=error)
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
            _issue_items(batch=batch, items=items, today=today)
    except IntegrityError:
        # Someone got a certificate meanwhile (e.g. a request was approved): one by one.
        for item in items:
            try:
                with transaction.atomic():
                    _issue_items(batch=batch, items=[item], today=today)
            except IntegrityError:
                BatchItem.objects.filter(pk=item.pk).update(
                    state=BatchItem.State.SKIPPED, error="有効な資格確認書を既に持っています"
                )


def _issue_items(*, batch: IssueBatch, items: list[BatchItem], today: date) -> None:
    person_ids = [i.person_id for i in items]
    # Locked in id order, so two overlapping batches wait for each other instead of deadlocking.
    persons = {p.pk: p for p in Person.objects.filter(pk__in=person_ids).order_by("pk")
               .select_related("household__society", "household__employer").select_for_update(of=("self",))}
    from .selectors import renewal_horizon, valid_certificates

    # R6.5: a certificate due for renewal does not hold back its renewal (it is replaced below).
    renewing = [i.person_id for i in items if i.basis == Basis.RENEWAL]
    holding = set(valid_certificates(today=today).filter(person_id__in=person_ids)
                  .exclude(person_id__in=renewing, valid_until__lte=renewal_horizon(today=today))
                  .values_list("person_id", flat=True))
    # Past the last eligible day (e.g. 任意継続's end) a certificate would be born expired.
    not_eligible = {pk for pk, p in persons.items() if not p.is_eligible_on(today) or p.last_eligible_day() < today}
    skip = {i.pk: ("有効な資格確認書を既に持っています" if i.person_id in holding else "資格がありません")
            for i in items if i.person_id in holding | not_eligible}
    for item_id, reason in skip.items():
        BatchItem.objects.filter(pk=item_id).update(state=BatchItem.State.SKIPPED, error=reason)
    todo = [i for i in items if i.pk not in skip]
    if not todo:
        return
    # Expired (but not voided) certificates are replaced.
    _void_current(person_ids=[i.person_id for i in todo], by=batch.started_by, reason=Cert.VoidReason.REPLACED)
    certificates = _new_certificates(
        persons=[persons[i.person_id] for i in todo], bases={i.person_id: i.basis for i in todo},
        issued_by=batch.started_by, today=today, batch=batch,
    )
    Cert.objects.bulk_create(certificates)
    for item, certificate in zip(todo, certificates, strict=True):
        item.certificate = certificate
        item.state = BatchItem.State.ISSUED
    BatchItem.objects.bulk_update(todo, ["certificate", "state"])


def batch_refresh(*, batch_id: int) -> IssueBatch:
    """Recount a batch from its items; the last chunk hands over to assembling print files."""
    counts = dict(
        BatchItem.objects.filter(batch_id=batch_id).values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    IssueBatch.objects.filter(pk=batch_id).update(
        rendered_count=counts.get(BatchItem.State.RENDERED, 0),
        failed_count=counts.get(BatchItem.State.FAILED, 0),
        skipped_count=counts.get(BatchItem.State.SKIPPED, 0),
        last_progress_at=timezone.now(),
    )
    open_items = counts.get(BatchItem.State.PENDING, 0) + counts.get(BatchItem.State.ISSUED, 0)
    if open_items == 0:
        moved = IssueBatch.objects.filter(pk=batch_id, status=IssueBatch.Status.RUNNING).update(
            status=IssueBatch.Status.ASSEMBLING
        )
        if moved:
            from . import tasks

            transaction.on_commit(lambda: tasks.assemble_print_files.delay(batch_id))
    return IssueBatch.objects.get(pk=batch_id)


@transaction.atomic
def batch_retry_failed(*, batch: IssueBatch, by, request=None) -> int:
    """Send the failed items back to work (a new attempt renders the same certificate)."""
    items = BatchItem.objects.filter(batch=batch, state=BatchItem.State.FAILED)
    retried = items.filter(certificate__isnull=False).update(
        state=BatchItem.State.ISSUED, error="", claim_token="", claimed_until=None
    )
    retried += items.filter(certificate__isnull=True).update(
        state=BatchItem.State.PENDING, error="", claim_token="", claimed_until=None
    )
    if retried:
        IssueBatch.objects.filter(pk=batch.pk).update(status=IssueBatch.Status.RUNNING, finished_at=None)
        record(action="issue", request=request, actor=by, obj=batch, summary=f"失敗した{retried}件を再実行")
        from . import tasks

        transaction.on_commit(lambda: tasks.start_batch.delay(batch.pk))
    batch_refresh(batch_id=batch.pk)
    return retried


def batches_resume_stalled(*, now=None, stalled_after: timedelta = timedelta(minutes=15)) -> list[int]:
    """Re-queue the open work of batches without progress for ``stalled_after``
    (a worker died, the broker lost a message). Claims are honoured, so nothing runs twice."""
    from . import tasks

    now = now or timezone.now()
    resumed = []
    for batch in IssueBatch.objects.exclude(status=IssueBatch.Status.DONE).filter(
        last_progress_at__lt=now - stalled_after
    ):
        IssueBatch.objects.filter(pk=batch.pk).update(last_progress_at=timezone.now())
        if batch.status == IssueBatch.Status.ASSEMBLING:
            unmerged = list(batch.print_files.filter(pdf="").values_list("pk", flat=True))
            if not batch.print_files.exists():
                tasks.assemble_print_files.delay(batch.pk)
            for print_file_id in unmerged:
                tasks.assemble_print_file.delay(print_file_id)
        else:
            BatchItem.objects.filter(batch=batch, claimed_until__lt=now).update(claim_token="", claimed_until=None)
            for chunk in batch_chunks(batch_id=batch.pk):
                tasks.process_chunk.delay(batch.pk, chunk)
            batch_refresh(batch_id=batch.pk)
        resumed.append(batch.pk)
    # Approved requests' certificates whose render message was lost (rendering is idempotent).
    for certificate_id in Cert.objects.filter(
        batch__isnull=True, status=Cert.Status.QUEUED, queued_at__lt=now - stalled_after
    ).values_list("pk", flat=True)[:1000]:
        tasks.render_certificate.delay(certificate_id)
    return resumed


def print_groups(*, batch: IssueBatch):
    """The batch's rendered certificates grouped for mailing, streamed from the database:
    by employer (code order), then the direct-post group (任意継続) last; inside a group
    by 記号・番号・枝番. Yields ``(title, employer_name, rows)``; rows are small dicts."""
    rows = (
        batch.certificates.exclude(status__in=[Cert.Status.VOID, Cert.Status.QUEUED])
        .annotate(post_last=Case(When(delivery_route="post", then=Value(1)), default=Value(0)),
                  name=KT("snapshot__name"))
        .order_by("post_last", "employer__code", "person__household__symbol", "person__household__number",
                  "person__branch_number")
        .values("pk", "delivery_route", "employer__code", "employer__name")
    )
    key, group = None, []
    for row in rows.iterator(chunk_size=2000):
        row_key = "post" if row["delivery_route"] == "post" else row["employer__code"]
        if row_key != key and group:
            yield _group_title(group[0]), group
            group = []
        key = row_key
        group.append(row)
    if group:
        yield _group_title(group[0]), group


def _group_title(row: dict) -> tuple[str, str]:
    if row["delivery_route"] == "post":
        return "本人あて直接郵送分（任意継続など）", ""
    return "事業所あて送付表", row["employer__name"]


def batch_assemble_print_files(*, batch_id: int) -> int:
    """Plan the batch's print files (at most KENPO_PRINT_FILE_MAX_PAGES pages each, every
    employer's certificates after its cover sheet) and queue one merge task per file.
    Streams the batch from the database; re-running replaces the plan (idempotent)."""
    from . import tasks

    batch = IssueBatch.objects.get(pk=batch_id)
    max_pages = settings.KENPO_PRINT_FILE_MAX_PAGES
    # A group longer than a file continues in the next one, with its cover sheet again.
    size = max(max_pages - -(-max_pages // (COVER_ROWS_PER_PAGE + 1)), 1)
    plans: list[list[dict]] = []
    current: list[dict] = []
    pages = 0
    for (title, employer_name), rows in print_groups(batch=batch):
        for start in range(0, len(rows), size):
            part = rows[start:start + size]
            part_pages = len(part) + -(-len(part) // COVER_ROWS_PER_PAGE)
            if pages and pages + part_pages > max_pages:
                plans.append(current)
                current, pages = [], 0
            current.append({"title": title, "employer_name": employer_name, "ids": [r["pk"] for r in part]})
            pages += part_pages
    if current:
        plans.append(current)
    with transaction.atomic():
        for old in batch.print_files.all():
            old.pdf.delete(save=False)
        batch.print_files.all().delete()
        files = PrintFile.objects.bulk_create(
            PrintFile(batch=batch, sequence=n, plan=plan, certificate_count=sum(len(g["ids"]) for g in plan),
                      description="、".join(dict.fromkeys(g["employer_name"] or g["title"] for g in plan))[:300])
            for n, plan in enumerate(plans, start=1)
        )
        IssueBatch.objects.filter(pk=batch.pk).update(last_progress_at=timezone.now())
        for print_file in files:
            transaction.on_commit(lambda pk=print_file.pk: tasks.assemble_print_file.delay(pk))
    if not files:
        _finish_if_merged(batch_id=batch.pk)
    return len(files)


def print_file_assemble(*, print_file_id: int) -> int:
    """Merge one planned print file: per group, its cover sheet then its certificates' PDFs."""
    print_file = PrintFile.objects.get(pk=print_file_id)
    ids = [pk for group in print_file.plan for pk in group["ids"]]
    certificates = {c["pk"]: c for c in Cert.objects.filter(pk__in=ids).annotate(name=KT("snapshot__name"))
                    .values("pk", "serial", "name", "valid_until", "pdf")}
    parts: list = []
    for group in print_file.plan:
        rows = [certificates[pk] for pk in group["ids"]]
        parts.append(pdf.render_cover(title=group["title"], employer_name=group["employer_name"], rows=rows,
                                      batch_id=print_file.batch_id))
        parts.extend(default_storage.path(row["pdf"]) for row in rows)
    content, pages = pdf.merge(parts)
    if print_file.pdf:
        print_file.pdf.delete(save=False)
    print_file.pdf.save(f"batch-{print_file.batch_id}-{print_file.sequence:03d}.pdf", ContentFile(content),
                        save=False)
    PrintFile.objects.filter(pk=print_file.pk).update(pdf=print_file.pdf.name, pages=pages)
    IssueBatch.objects.filter(pk=print_file.batch_id).update(last_progress_at=timezone.now())
    _finish_if_merged(batch_id=print_file.batch_id)
    return pages


def _finish_if_merged(*, batch_id: int) -> None:
    if not PrintFile.objects.filter(batch_id=batch_id, pdf="").exists():
        IssueBatch.objects.filter(pk=batch_id, status=IssueBatch.Status.ASSEMBLING).update(
            status=IssueBatch.Status.DONE, finished_at=timezone.now(), last_progress_at=timezone.now()
        )


def _page_count(content: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(content)).pages)


# --- Re-issue requests -----------------------------------------------------------------


class RequestRefused(Exception):
    """A request that cannot be made (one is already open for the person)."""


def _request_move(*, request: ReissueRequest, to: str, by, note: str = "", **fields) -> ReissueRequest:
    """Conditional move of a request along its machine, with a history event and an e-mail."""
    current = ReissueRequest.Status(request.status)
    if to not in ReissueRequest.ALLOWED[current]:
        raise IllegalTransition(f"{current} → {to}")
    moved = ReissueRequest.objects.filter(pk=request.pk, status=current).update(status=to, **fields)
    if not moved:
        raise IllegalTransition(f"{current} → {to} (already changed)")
    request.refresh_from_db()
    dashboard_cache.forget_persons([request.person_id])
    ReissueRequestEvent.objects.create(request=request, status=to, by=by, note=note[:300])
    transaction.on_commit(lambda: notifications.request_changed(request))
    return request


@transaction.atomic
def request_submit(*, person: Person, requested_by, reason: str, noticed_on=None, details: str = "",
                   request=None) -> ReissueRequest:
    if ReissueRequest.objects.filter(person=person, status__in=ReissueRequest.OPEN).exists():
        raise RequestRefused("open request exists")
    try:
        with transaction.atomic():
            req = ReissueRequest.objects.create(
                person=person, requested_by=requested_by, reason=reason, noticed_on=noticed_on, details=details
            )
    except IntegrityError:
        raise RequestRefused("open request exists") from None
    ReissueRequestEvent.objects.create(request=req, status=req.status, by=requested_by)
    record(action="change", request=request, actor=requested_by, obj=req, summary="資格確認書の交付を申請")
    transaction.on_commit(lambda: notifications.request_changed(req))
    return req


@transaction.atomic
def request_withdraw(*, req: ReissueRequest, by, request=None) -> ReissueRequest:
    _request_move(request=req, to=ReissueRequest.Status.WITHDRAWN, by=by)
    record(action="change", request=request, actor=by, obj=req, summary="資格確認書の交付申請を取り下げ")
    return req


@transaction.atomic
def request_approve(*, req: ReissueRequest, by, request=None) -> Cert:
    """Approve: issue a certificate (voiding the old one) and queue its PDF."""
    _request_move(request=req, to=ReissueRequest.Status.APPROVED, by=by,
                  reviewed_by=by, reviewed_at=timezone.now())
    certificate = certificate_issue(person=req.person, basis=Basis.APPLICATION, issued_by=by, reissue_request=req)
    record(action="issue", request=request, actor=by, obj=req, summary=f"交付申請を承認（{certificate.serial}）")
    from . import tasks

    transaction.on_commit(lambda: tasks.render_certificate.delay(certificate.pk))
    return certificate


@transaction.atomic
def request_reject(*, req: ReissueRequest, by, reject_reason: str, note: str = "", request=None) -> ReissueRequest:
    if reject_reason not in ReissueRequest.RejectReason.values:
        raise ValueError("unknown reject reason")
    _request_move(request=req, to=ReissueRequest.Status.REJECTED, by=by, reviewed_by=by,
                  reviewed_at=timezone.now(), reject_reason=reject_reason, review_note=note)
    record(action="change", request=request, actor=by, obj=req, summary="交付申請をお受けできないと判断")
    return req
