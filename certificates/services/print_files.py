"""Writes of print files: a batch's rendered certificates planned into files of at most
``KENPO_PRINT_FILE_MAX_PAGES`` pages, grouped by employer with a cover sheet each."""

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Case, Value, When
from django.db.models.fields.json import KT
from django.utils import timezone

from .. import pdf
from ..models import EligibilityCertificate, IssueBatch, PrintFile

Cert = EligibilityCertificate
# Rows of the employer's cover sheet that fit one A4 page (templates/certificates/pdf/cover.html).
COVER_ROWS_PER_PAGE = 30


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
    from .. import tasks

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


