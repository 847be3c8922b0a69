"""Print files: certificates planned into files of one employer (事業所) each — never two in
one file — of at most ``KENPO_PRINT_FILE_MAX_PAGES`` pages, with the employer's cover sheet
(the 一覧表, naming the insured person for a dependent's certificate; the direct-post group
last), then rendered by one task per file. A certificate voided after rendering is stamped
「無効」 on its page whenever the file is downloaded (``print_file_content``).

A file is rendered in chunks of ``KENPO_PRINT_CHUNK_SHEETS`` sheets, each chunk one
WeasyPrint document (its pages share one font subset), and the chunks concatenated. A
sheet that cannot be rendered is found by rendering the failed chunk's sheets one by one;
it is left out (its certificate shows the error and goes back to be planned again) and
the rest of the file is printed. Any other failure is recorded on the file and the task
retries.

Two sources: a batch's certificates (``batch_assemble_print_files``), and the certificates
issued one at a time (approved requests, single issues from a person's page), which go
into the day's file of their delivery route (``daily_print_files_make``).
"""

import io
import logging
from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Case, F, QuerySet, Value, When
from django.utils import timezone

from eligibility import dashboard_cache

from .. import pdf
from ..models import BatchItem, DeliveryRoute, EligibilityCertificate, IssueBatch, PrintFile
from .certificates import describe_error
from .packets import list_row, packets_make

log = logging.getLogger(__name__)
Cert = EligibilityCertificate
# Rows of the employer's cover sheet that fit one A4 page (templates/certificates/pdf/_cover.html).
COVER_ROWS_PER_PAGE = 30
POST_TITLE = "本人あて直接郵送分（任意継続など）"
EMPLOYER_TITLE = "事業所あて送付表"


# --- Planning --------------------------------------------------------------------------


def print_groups(certificates: QuerySet[Cert]):
    """``certificates`` grouped for mailing, streamed from the database: by employer (code
    order), then the direct-post group (任意継続) last; inside a group by 記号・番号・枝番.
    Yields ``((title, employer_name, employer_id), rows)``; rows are small dicts."""
    rows = (
        certificates.exclude(status=Cert.Status.VOID)
        .annotate(post_last=Case(When(delivery_route="post", then=Value(1)), default=Value(0)))
        .order_by("post_last", "employer__code", "person__household__symbol", "person__household__number",
                  "person__branch_number")
        .values("pk", "delivery_route", "employer_id", "employer__name")
    )
    key, group = None, []
    for row in rows.iterator(chunk_size=2000):
        row_key = "post" if row["delivery_route"] == "post" else row["employer_id"]
        if row_key != key and group:
            yield _group_title(group[0]), group
            group = []
        key = row_key
        group.append(row)
    if group:
        yield _group_title(group[0]), group


def _group_title(row: dict) -> tuple[str, str, int | None]:
    if row["delivery_route"] == "post":
        return POST_TITLE, "", None
    return EMPLOYER_TITLE, row["employer__name"], row["employer_id"]


def _plan(certificates: QuerySet[Cert]) -> list[list[dict]]:
    """One file per 事業所 (or for the direct-post group), never two employers in one file
    (R12: each file is one packet with its cover sheet, the 一覧表); a group longer than
    KENPO_PRINT_FILE_MAX_PAGES pages continues in the next file, with its cover."""
    max_pages = settings.KENPO_PRINT_FILE_MAX_PAGES
    size = max(max_pages - -(-max_pages // (COVER_ROWS_PER_PAGE + 1)), 1)
    return [
        [{"title": title, "employer_name": employer_name, "employer_id": employer_id,
          "ids": [r["pk"] for r in rows[start:start + size]]}]
        for (title, employer_name, employer_id), rows in print_groups(certificates)
        for start in range(0, len(rows), size)
    ]


def _create_files(*, plans: list[list[dict]], batch: IssueBatch | None = None, day: date | None = None,
                  route: str = "") -> list[PrintFile]:
    """Save the planned files, tie each certificate to its file, and queue one render per file."""
    from .. import tasks

    existing = PrintFile.objects.filter(batch=batch) if batch else PrintFile.objects.filter(
        batch__isnull=True, day=day, route=route)
    first = (existing.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
    files = PrintFile.objects.bulk_create(
        PrintFile(batch=batch, day=day, route=route, sequence=n, plan=plan,
                  certificate_count=sum(len(g["ids"]) for g in plan),
                  description="、".join(dict.fromkeys(g["employer_name"] or g["title"] for g in plan))[:300])
        for n, plan in enumerate(plans, start=first)
    )
    for print_file in files:
        ids = [pk for group in print_file.plan for pk in group["ids"]]
        Cert.objects.filter(pk__in=ids).update(print_file=print_file)
        transaction.on_commit(lambda pk=print_file.pk: tasks.assemble_print_file.delay(pk))
    return files


def batch_assemble_print_files(*, batch_id: int) -> int:
    """Plan the print files of the batch's certificates not yet in one, and queue their
    renders. Re-running plans nothing twice (the batch row is locked while planning)."""
    with transaction.atomic():
        batch = IssueBatch.objects.select_for_update().get(pk=batch_id)
        plans = _plan(batch.certificates.filter(print_file__isnull=True))
        files = _create_files(plans=plans, batch=batch)
        IssueBatch.objects.filter(pk=batch.pk).update(last_progress_at=timezone.now())
    if not files:
        _finish_batch_if_rendered(batch_id=batch_id)
    return len(files)


def daily_print_files_make(*, day: date) -> int:
    """Put every certificate issued one at a time and not yet in a print file into the
    day's file(s) of its delivery route. Safe to run again, and alongside itself (the
    certificates are locked while planned; a locked one waits for the next run)."""
    made = 0
    for route in DeliveryRoute.values:
        with transaction.atomic():
            waiting = Cert.objects.filter(batch__isnull=True, print_file__isnull=True, delivery_route=route,
                                          status=Cert.Status.QUEUED, issued_on__lte=day)
            ids = list(waiting.select_for_update(skip_locked=True).values_list("pk", flat=True))
            if ids:
                made += len(_create_files(plans=_plan(Cert.objects.filter(pk__in=ids)), day=day, route=route))
    return made


# --- Rendering -------------------------------------------------------------------------


class _SheetsFailed(Exception):
    def __init__(self, failed: dict[int, str]):
        super().__init__(f"{len(failed)} sheets failed")
        self.failed = failed


def _chunks(print_file: PrintFile, certificates: dict[int, dict], chunk_sheets: int) -> list[list[dict]]:
    """The file's pages in print order, cut into chunks of at most ``chunk_sheets`` sheets;
    a cover sheet goes with the sheets after it."""
    chunks: list[list[dict]] = [[]]
    sheets = 0
    for group in print_file.plan:
        rows = [certificates[pk] for pk in group["ids"] if pk in certificates]
        if not rows:
            continue
        source = f"交付バッチ #{print_file.batch_id}" if print_file.batch_id else f"{print_file.day:%Y-%m-%d} 交付分"
        cover = {"cover": {"title": group["title"], "employer_name": group["employer_name"], "source": source,
                           "rows": [list_row(r["snapshot"]) for r in rows]}}
        if sheets >= chunk_sheets:
            chunks.append([])
            sheets = 0
        chunks[-1].append(cover)
        for row in rows:
            if sheets >= chunk_sheets:
                chunks.append([])
                sheets = 0
            chunks[-1].append({**row["snapshot"], "certificate_id": row["pk"]})
            sheets += 1
    return [c for c in chunks if c]


def _render_chunks(chunks: list[list[dict]]) -> tuple[list[bytes], dict[int, int]]:
    """Render each chunk; returns the chunk PDFs and each certificate's page in the file."""
    from pypdf import PdfReader

    parts, page_of, offset = [], {}, 0
    for chunk in chunks:
        try:
            content, anchors = pdf.render_pages(chunk)
        except Exception as exc:
            failed = _failing_sheets(chunk)
            if not failed or len(failed) == sum(1 for page in chunk if "cover" not in page):
                raise  # not one bad sheet but the rendering itself: the task retries
            log.warning("print file chunk failed (%s); %d sheet(s) left out", type(exc).__name__, len(failed))
            raise _SheetsFailed(failed) from exc
        for anchor, page in anchors.items():
            if anchor.startswith("c") and anchor[1:].isdigit():
                page_of[int(anchor[1:])] = offset + page
        parts.append(content)
        offset += len(PdfReader(io.BytesIO(content)).pages)
    return parts, page_of


def _failing_sheets(chunk: list[dict]) -> dict[int, str]:
    failed = {}
    for page in chunk:
        if "cover" in page:
            continue
        try:
            pdf.render_certificates([page])
        except Exception as exc:
            failed[page["certificate_id"]] = describe_error(exc)
    return failed


def print_file_assemble(*, print_file_id: int) -> int:
    """Render one planned print file and mark its certificates rendered. Idempotent: a file
    already rendered is left as it is. Returns its page count."""
    print_file = PrintFile.objects.get(pk=print_file_id)
    if print_file.rendered_at:
        return print_file.pages
    PrintFile.objects.filter(pk=print_file.pk).update(attempts=F("attempts") + 1)
    ids = [pk for group in print_file.plan for pk in group["ids"]]
    certificates = {
        c["pk"]: c for c in Cert.objects.filter(pk__in=ids, print_file=print_file).exclude(status=Cert.Status.VOID)
        .values("pk", "serial", "snapshot", "valid_until")
    }
    failed: dict[int, str] = {}
    try:
        while True:
            try:
                parts, page_of = _render_chunks(
                    _chunks(print_file, {k: v for k, v in certificates.items() if k not in failed},
                            settings.KENPO_PRINT_CHUNK_SHEETS))
                break
            except _SheetsFailed as exc:
                failed.update(exc.failed)
        content, pages = pdf.merge(parts) if parts else (b"", 0)
    except Exception as exc:
        PrintFile.objects.filter(pk=print_file.pk).update(error=describe_error(exc))
        raise
    rendered = [pk for pk in certificates if pk not in failed]
    voided = set(ids) - set(certificates)
    with transaction.atomic():
        # Voided after the file was planned: never printed.
        BatchItem.objects.filter(certificate_id__in=voided, state=BatchItem.State.ISSUED).update(
            state=BatchItem.State.SKIPPED, error="交付後に無効にしたため印刷しません")
        if content:
            print_file.pdf.save(_file_name(print_file), ContentFile(content), save=False)
        finished = PrintFile.objects.filter(pk=print_file.pk, rendered_at__isnull=True).update(
            pdf=print_file.pdf.name or "", pages=pages, error="", certificate_count=len(rendered),
            rendered_at=timezone.now(),
            page_of={str(k): v for k, v in page_of.items()},
        )
        if not finished:  # a redelivered message: another worker finished this file first
            if content:
                print_file.pdf.delete(save=False)
            return PrintFile.objects.get(pk=print_file.pk).pages
        _mark_rendered(print_file=print_file, rendered=rendered, failed=failed)
    if print_file.batch_id:
        _finish_batch_if_rendered(batch_id=print_file.batch_id)
    return pages


def _file_name(print_file: PrintFile) -> str:
    if print_file.batch_id:
        return f"batch-{print_file.batch_id}-{print_file.sequence:03d}.pdf"
    return f"day-{print_file.day:%Y%m%d}-{print_file.route}-{print_file.sequence:03d}.pdf"


def _mark_rendered(*, print_file: PrintFile, rendered: list[int], failed: dict[int, str]) -> None:
    from .batches import batch_refresh
    from .requests import request_mark_issued

    now = timezone.now()
    Cert.objects.filter(pk__in=rendered, status=Cert.Status.QUEUED).update(
        status=Cert.Status.RENDERED, rendered_at=now, render_error="")
    BatchItem.objects.filter(certificate_id__in=rendered, state=BatchItem.State.ISSUED).update(
        state=BatchItem.State.RENDERED, error="")
    for certificate_id, error in failed.items():
        # Out of this file: shown with its error, and planned again (batch: on retry; day: next run).
        Cert.objects.filter(pk=certificate_id).update(render_error=error, print_file=None)
        BatchItem.objects.filter(certificate_id=certificate_id).update(state=BatchItem.State.FAILED, error=error)
    dashboard_cache.forget_persons(Cert.objects.filter(pk__in=[*rendered, *failed]).values_list("person_id", flat=True))
    for request_id, serial in Cert.objects.filter(
        pk__in=rendered, reissue_request__isnull=False
    ).values_list("reissue_request_id", "serial"):
        request_mark_issued(request_id=request_id, note=serial)
    packets_make(print_file=print_file, certificate_ids=rendered)
    if print_file.batch_id:
        batch_refresh(batch_id=print_file.batch_id)


def _finish_batch_if_rendered(*, batch_id: int) -> None:
    if not PrintFile.objects.filter(batch_id=batch_id, rendered_at__isnull=True).exists():
        IssueBatch.objects.filter(pk=batch_id, status=IssueBatch.Status.ASSEMBLING).update(
            status=IssueBatch.Status.DONE, finished_at=timezone.now(), last_progress_at=timezone.now()
        )
    else:
        IssueBatch.objects.filter(pk=batch_id).update(last_progress_at=timezone.now())


# --- Downloads -------------------------------------------------------------------------


def print_file_content(*, print_file: PrintFile) -> bytes:
    """The file's bytes, with 「無効」 stamped across the page of every certificate voided
    since it was rendered (R8: a voided certificate is never served as printable)."""
    with print_file.pdf.open("rb") as handle:
        content = handle.read()
    voided = dict(
        Cert.objects.filter(print_file=print_file, status=Cert.Status.VOID).values_list("pk", "void_reason")
    )
    pages = {print_file.page_of[str(pk)] - 1: str(Cert.VoidReason(reason or Cert.VoidReason.ERROR).label)
             for pk, reason in voided.items() if str(pk) in print_file.page_of}
    return pdf.stamp_void(content, pages=pages) if pages else content
