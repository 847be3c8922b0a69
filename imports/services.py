"""Writes of the imports app: upload a file, check it (the preview), then write it (confirm).

Both steps are background jobs (``imports.tasks``, queue ``imports``; in-process in
the embedded default), so the web request only stores the upload:

``import_upload``
    stores the file (in chunks, whatever its size) and queues ``check_run``.
``check_run``
    reads the file row by row into a staging table (``COPY`` on PostgreSQL), then
    compares it with the database in a few set-based queries: counts, samples, every
    bad row. Writes nothing but the run and its staged rows. A file with a bad row is
    refused and its upload deleted.
``request_confirm`` / ``write_run``
    in one transaction, with the run and the society locked: classify the staged rows
    again, refuse if the result is not what staff saw, then apply them with a few
    ``INSERT … SELECT`` / ``UPDATE … FROM`` statements. A worker killed mid-write
    leaves nothing written (the transaction dies with it) and the run is started
    again by ``resume_stalled`` (beat) or from its page.
``expire_runs``
    runs never confirmed expire after KENPO_IMPORT_RUN_EXPIRY_DAYS; their upload and
    staged rows are deleted.

``import_preview`` and ``import_confirm`` do a step in the caller's process (tests,
benchmarks, the shell).
"""

import hashlib
import io
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from approvals.models import Approval
from approvals.services import approval_request, four_eyes
from audit.services import record
from eligibility.models import Person, Society, search_text_of
from eligibility.selectors import today as japan_today

from . import parsers, registration, roster
from .models import ImportRun, StagedRegistrationRow, StagedRosterRow
from .parsers import ImportFileError, RowError
from .signals import imported
from .staging import LARGE, Stager

logger = logging.getLogger(__name__)

ERRORS_KEPT = 10_000
# Files larger than this are loaded by a thread while the next rows are parsed (PostgreSQL).
BACKGROUND_LOAD_BYTES = 1_000_000
WARNINGS_KEPT = 1_000
PROGRESS_EVERY = 20_000
GENERIC_FAILURE = "取込中にエラーが起きました。何も書き込んでいません。もう一度お試しください。"


class ImportRefused(Exception):
    """The run cannot be confirmed; the message is for staff, in Japanese."""


@dataclass(frozen=True)
class Layout:
    """How one kind of file is read, staged and checked."""

    columns: dict
    optional: frozenset
    make_row: object
    staged: type
    fields: tuple


LAYOUTS = {
    ImportRun.Kind.ROSTER: Layout(parsers.ROSTER_COLUMNS, parsers.ROSTER_OPTIONAL, parsers.roster_row,
                                  StagedRosterRow, roster.FIELDS),
    ImportRun.Kind.REGISTRATION: Layout(parsers.REGISTRATION_COLUMNS, frozenset(), parsers.registration_row,
                                        StagedRegistrationRow, registration.FIELDS),
}


# --- Upload --------------------------------------------------------------------------


def _store(*, kind: str, society: Society, upload, user) -> ImportRun:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    sha256 = digest.hexdigest()
    run = ImportRun(kind=kind, society=society, sha256=sha256, size=upload.size, uploaded_by=user)
    # Kept only until the run is confirmed, refused or expired. The name says nothing of it.
    run.file.save(f"{kind}-{sha256[:16]}.csv", upload, save=False)
    run.save()
    return run


def import_upload(*, kind: str, society: Society, upload, user, request=None) -> ImportRun:
    """Store an uploaded file and queue its check; returns at once whatever the file's size."""
    from . import tasks

    run = _store(kind=kind, society=society, upload=upload, user=user)
    record(action="import", request=request, actor=user, obj=run,
           summary=f"{run.get_kind_display()}をアップロード（{run.size:,}バイト）")
    transaction.on_commit(lambda: tasks.check_run.delay(run.pk))
    return run


def import_preview(*, kind: str, society: Society, data: bytes, user, request=None) -> ImportRun:
    """Store ``data`` and check it here and now (tests, benchmarks, the shell)."""
    run = _store(kind=kind, society=society, upload=ContentFile(data, name=f"{kind}.csv"), user=user)
    record(action="import", request=request, actor=user, obj=run,
           summary=f"{run.get_kind_display()}をアップロード（{run.size:,}バイト）")
    return check_run(run_id=run.pk)


# --- Progress ------------------------------------------------------------------------


def _progress_key(run_id: int) -> str:
    return f"imports:progress:{run_id}"


def live_progress(run: ImportRun) -> dict:
    """Rows read, checked and written, as far as the job got: a write's progress is in the
    cache (its transaction is not visible until it commits), a check's in the run."""
    found = {"read": run.rows_read, "checked": run.rows_checked, "written": run.rows_written}
    if run.status == ImportRun.Status.CONFIRMING:
        found["written"] = (cache.get(_progress_key(run.pk)) or {}).get("written", 0)
    return found


def change_kinds(run: ImportRun) -> list[tuple[str, int]]:
    """The preview's changes by kind, in the reader's language: a roster's per field, a
    registration file's per change of status."""
    labels = roster.FIELD_LABELS if run.kind == ImportRun.Kind.ROSTER else registration.CHANGES
    return [(str(label), run.kinds[name]) for name, label in labels.items() if run.kinds.get(name)]


def _beat(run_id: int, **fields) -> None:
    ImportRun.objects.filter(pk=run_id).update(heartbeat_at=timezone.now(), **fields)


# --- Check (the preview) -------------------------------------------------------------


def _delete_staged(run_id: int) -> None:
    for model in (StagedRegistrationRow, StagedRosterRow):
        model.objects.filter(run_id=run_id)._raw_delete(model.objects.db)  # no signals, no fetch: one DELETE


def check_run(*, run_id: int) -> ImportRun:
    """Read, stage and check a stored upload (the background job behind the preview)."""
    now = timezone.now()
    claimed = ImportRun.objects.filter(pk=run_id, status__in=[ImportRun.Status.QUEUED, ImportRun.Status.CHECKING]
                                       ).update(status=ImportRun.Status.CHECKING, started_at=now, heartbeat_at=now,
                                                finished_at=None, rows_read=0, rows_checked=0)
    run = ImportRun.objects.get(pk=run_id)
    if not claimed:
        return run  # checked already (a duplicate message), or expired
    started = time.monotonic()
    _delete_staged(run_id)  # a check started again begins afresh
    try:
        _check(run)
    except ImportFileError as exc:
        _delete_staged(run_id)
        run.status, run.failure = ImportRun.Status.FAILED, str(exc)[:255]
        run.errors, run.error_count = [{"line": 1, "message": str(exc)}], 1
    except Exception:
        logger.exception("import run %s: the check failed", run_id)
        _delete_staged(run_id)
        run.status, run.failure = ImportRun.Status.FAILED, "ファイルの確認中にエラーが起きました。もう一度アップロードしてください。"
    else:
        run.status = ImportRun.Status.REFUSED if run.error_count else ImportRun.Status.PREVIEW
        if run.error_count:
            _delete_staged(run_id)
    run.seconds = round(time.monotonic() - started, 3)
    run.finished_at = timezone.now()
    run.save()
    if run.status != ImportRun.Status.PREVIEW:
        # A file with errors cannot be confirmed, and is never kept (it may hold what a row was refused for).
        _forget_file(run)
    record(action="import", actor=run.uploaded_by, obj=run,
           summary=f"{run.get_kind_display()}のプレビュー（{run.row_count}行、エラー{run.error_count}件）")
    _notify(run, run.uploaded_by)
    return run


def _check(run: ImportRun) -> None:
    layout = LAYOUTS[run.kind]
    today = japan_today()
    errors: list[dict] = []
    warnings: list[dict] = []
    is_roster = run.kind == ImportRun.Kind.ROSTER
    run_id = run.pk
    summary = None
    if is_roster:
        stager = Stager(layout.staged, layout.fields, values=lambda row: _roster_values(run_id, row))
    elif connection.vendor == "postgresql":
        # Classified batch by batch as it is staged, most of it while the rest is parsed (issue 26).
        summary = registration.Summary(run_id, run.society_id)
        stager = Stager(layout.staged, layout.fields, values=lambda row: _registration_values(run_id, row),
                        line=summary.line)
    else:
        stager = Stager(layout.staged, layout.fields, values=lambda row: _registration_values(run_id, row))
    with run.file.open("rb") as raw:
        if raw.size > BACKGROUND_LOAD_BYTES:
            stager.in_background(then=summary.classify if summary is not None else None)
        try:
            read, error_count, warning_count = _read(run, raw, layout, stager, errors, warnings, today)
        finally:
            stager.close()
    run.row_count = read
    _beat(run.pk, rows_read=read, row_count=read)
    with transaction.atomic():
        if is_roster:
            roster.classify(run.pk, run.society_id, columns=run.columns, today=today, large=read > LARGE)
            found, found_count = roster.errors(limit=ERRORS_KEPT)
            run.counts, run.kinds = roster.counts(), roster.kinds()
            run.samples = roster.samples()
            roster.done()
        else:
            run.counts, run.kinds, found_count, found, run.samples = registration.check(
                run.pk, run.society_id, large=read > LARGE, error_limit=ERRORS_KEPT, summary=summary)
    # The society's size, for the share a file overwrites (counted by the summary while the file was read).
    run.population = (summary.population if summary is not None and summary.population is not None
                      else Person.objects.filter(household__society_id=run.society_id).count())
    run.errors = sorted(errors + found, key=lambda e: e["line"])[:ERRORS_KEPT]
    run.error_count = error_count + found_count
    run.warnings, run.warning_count = warnings, warning_count
    run.rows_checked = read


def _read(run: ImportRun, raw, layout: Layout, stager: Stager, errors: list, warnings: list,
          today) -> tuple[int, int, int]:
    """Parse the file row by row into the stager; the first bad rows (and warnings) go to the
    lists. Returns the rows read, the bad rows and the rows with a warning."""
    error_count = warning_count = read = 0
    sniffed = parsers.sniff(raw)
    run.encoding, run.rows_total = sniffed.encoding, max(sniffed.lines - 1, 0)
    stager.expect(run.rows_total)
    _beat(run.pk, encoding=run.encoding, rows_total=run.rows_total)
    # Read through the storage's own file object when it is a real one: TextIOWrapper asks its
    # buffer whether it is closed on every line, and Django's File answers in Python.
    inner = raw
    while not isinstance(inner, io.BufferedIOBase) and getattr(inner, "file", None) is not None:
        inner = inner.file
    text = io.TextIOWrapper(inner if isinstance(inner, io.BufferedIOBase) else raw, encoding=run.encoding,
                            newline="")
    try:
        present, rows = parsers.open_rows(text, layout.columns, optional=layout.optional,
                                          control=sniffed.has_control)
        run.columns = sorted(present & layout.optional)
        is_roster = run.kind == ImportRun.Kind.ROSTER
        for line, cells in rows:
            read += 1
            if read % PROGRESS_EVERY == 0:
                _beat(run.pk, rows_read=read)
            try:
                row = layout.make_row(line, cells, today=today)
            except RowError as exc:
                error_count += 1
                if len(errors) < ERRORS_KEPT:
                    errors.append({"line": line, "message": str(exc)})
                continue
            stager.add(row)
            if is_roster:
                for message in row.warnings(today=today):
                    warning_count += 1
                    if len(warnings) < WARNINGS_KEPT:
                        warnings.append({"line": line, "message": message})
    finally:
        text.detach()
        run.rows_read = read  # the run is saved whole at the end of the check
    return read, error_count, warning_count


def _roster_values(run_id: int, row) -> tuple:
    return (run_id, row.line, row.symbol, row.number, row.branch_number, row.relationship, row.family_name,
            row.given_name, row.family_name_kana, row.given_name_kana, row.sex, row.birth_date,
            row.eligible_from, row.eligible_until, row.certificate_wanted, row.my_number_registered,
            row.employer_code, row.voluntary_continuation, row.voluntary_continuation_ends_on, row.postal_code,
            row.address, search_text_of(row.family_name, row.given_name, row.family_name_kana, row.given_name_kana))


def _registration_values(run_id: int, row) -> tuple:
    return (run_id, row.line, row.symbol, row.number, row.branch_number, row.registered, row.as_of)


# --- Confirm (the write) -------------------------------------------------------------


def request_confirm(*, run: ImportRun, user, request=None, enqueue: bool = True,
                    large_change_seen: bool = False) -> ImportRun:
    """Queue the write of a checked run (refused unless it is waiting for confirmation).

    A large change (``ImportRun.is_large_change``) is confirmed twice: ``large_change_seen``
    says the clerk ticked that they saw its share."""
    from . import tasks

    if run.is_large_change and not large_change_seen:
        raise ImportRefused(f"このファイルは加入者の{run.overwrites_percent}%を書き換えます。変更の例を確かめて、"
                            "確認のチェックを入れてから「取り込む」を押してください。")
    waits = run.is_large_change and four_eyes()
    now = timezone.now()
    claimed = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.PREVIEW, error_count=0).update(
        **({"status": ImportRun.Status.AWAITING} if waits else {
            "status": ImportRun.Status.CONFIRMING, "started_at": now, "finished_at": None, "rows_written": 0}),
        confirmed_by=user,
    )
    run.refresh_from_db()
    if not claimed:
        if run.status in (ImportRun.Status.REFUSED, ImportRun.Status.PREVIEW):
            raise ImportRefused("エラーのある行があるため取り込めません。ファイルを直して、もう一度アップロードしてください。")
        if run.status == ImportRun.Status.AWAITING:
            raise ImportRefused("この取込は決裁を待っています。")
        if run.status == ImportRun.Status.CONFIRMING:
            raise ImportRefused("この取込はすでに書き込み中です。")
        raise ImportRefused("この取込はすでに確定されたか、失敗しています。")
    if waits:
        # Four eyes: a second staff member approves the write (approvals; staff's 決裁 page).
        approval_request(kind=Approval.Kind.IMPORT, target_id=run.pk, by=user, request=request, summary=(
            f"{run.get_kind_display()}の取込 #{run.pk}: 加入者の{run.overwrites_percent}%"
            f"（{run.overwrites:,}人）を書き換え"))
    elif enqueue:
        transaction.on_commit(lambda: tasks.write_run.delay(run.pk))
    return run


def import_approved(*, run_id: int, enqueue: bool = True) -> ImportRun:
    """A second staff member approved a run waiting for it: its write is queued (the clerk who
    confirmed it stays its 確定者; the approval names the approver)."""
    from . import tasks

    claimed = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.AWAITING).update(
        status=ImportRun.Status.CONFIRMING, started_at=timezone.now(), finished_at=None, rows_written=0)
    if not claimed:
        raise ImportRefused("この取込は決裁を待っていません（期限切れなど）。")
    if enqueue:
        transaction.on_commit(lambda: tasks.write_run.delay(run_id))
    return ImportRun.objects.get(pk=run_id)


def import_sent_back(*, run_id: int) -> None:
    """The approval was refused: the run waits for confirmation again (or expires)."""
    ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.AWAITING).update(
        status=ImportRun.Status.PREVIEW, confirmed_by=None)


def import_confirm(*, run: ImportRun, user, request=None, large_change_seen: bool = False) -> ImportRun:
    """Confirm and write here and now (tests, benchmarks); raises ``ImportRefused``."""
    run = request_confirm(run=run, user=user, request=request, enqueue=False, large_change_seen=large_change_seen)
    if run.status == ImportRun.Status.AWAITING:
        return run  # four eyes: written once approved (import_approved)
    run = write_run(run_id=run.pk)
    if run.status != ImportRun.Status.CONFIRMED:
        raise ImportRefused(run.failure)
    return run


def write_run(*, run_id: int) -> ImportRun:
    """Write a confirmed run, all of it or nothing (the background job behind 取り込む)."""
    started = time.monotonic()
    try:
        with transaction.atomic():
            # Locked for the whole write: a second worker given the same run waits here,
            # then finds it confirmed; a dead worker's lock goes with its connection.
            run = ImportRun.objects.select_for_update().get(pk=run_id)
            if run.status != ImportRun.Status.CONFIRMING:
                if run.status == ImportRun.Status.CONFIRMED:  # redelivered: finish its clean-up
                    transaction.on_commit(lambda: clean_up_confirmed(run_id=run_id))
                return run
            _write(run, started=started)
    except ImportRefused as exc:
        _fail(run_id, str(exc))
    except Exception:
        logger.exception("import run %s: the write failed", run_id)
        _fail(run_id, GENERIC_FAILURE)
    run = ImportRun.objects.get(pk=run_id)
    cache.delete(_progress_key(run_id))
    _notify(run, run.confirmed_by)
    return run


def _write(run: ImportRun, *, started: float) -> None:
    # One import at a time per society: the comparison below stays true until commit.
    Society.objects.select_for_update().get(pk=run.society_id)
    staged_model = LAYOUTS[run.kind].staged
    if staged_model.objects.filter(run_id=run.pk).count() != run.row_count:
        raise ImportRefused("取込の作業用データが見つかりません。何も書き込んでいません。もう一度アップロードしてください。")
    is_roster = run.kind == ImportRun.Kind.ROSTER
    if is_roster:
        roster.classify(run.pk, run.society_id, columns=run.columns, today=japan_today(),
                        large=run.row_count > LARGE)
        _errors, error_count = roster.errors(limit=1)
        counts, kinds = roster.counts(), roster.kinds()
    else:
        registration.classify(run.pk, run.society_id, large=run.row_count > LARGE)
        counts, kinds, error_count = registration.tally()
    if error_count or counts != run.counts or kinds != run.kinds:
        raise ImportRefused(
            "プレビューの後にデータが変わりました。何も書き込んでいません。もう一度アップロードしてください。"
        )
    now = timezone.now()
    key = _progress_key(run.pk)

    def progress(written: int) -> None:
        cache.set(key, {"written": min(written, run.row_count)}, 3600)

    if is_roster:
        roster.apply(run.society_id, now=now, progress=progress)
        roster.done()
    else:
        registration.apply(user_id=run.confirmed_by_id, now=now, progress=progress)
        registration.done()
    run.status = ImportRun.Status.CONFIRMED
    run.confirmed_at = run.finished_at = timezone.now()
    run.rows_written = run.row_count
    run.seconds = round(time.monotonic() - started, 3)
    run.save(update_fields=["status", "confirmed_at", "finished_at", "rows_written", "seconds"])
    counts = run.counts
    record(
        action="import", actor=run.confirmed_by, obj=run,
        summary=(
            f"{run.get_kind_display()}を取込（作成{counts.get('created', 0)}、更新{counts.get('updated', 0)}、"
            f"喪失{counts.get('ended', 0)}、変更なし{counts.get('unchanged', 0)}、"
            f"申告を優先{counts.get('kept', 0)}）"
        ),
        details={"counts": counts, "kinds": run.kinds, "rows": run.row_count},
    )
    # The clean-up is a job of its own: a kill before it runs leaves it to the redelivered
    # write or the beat's sweep (clean_up_confirmed_runs), never to nobody (issue 27).
    transaction.on_commit(lambda: _queue_clean_up(run.pk))
    # The apps above (the staff dashboard's counts) follow the import.
    transaction.on_commit(lambda: imported.send(sender=ImportRun, run=run))


def _fail(run_id: int, message: str) -> None:
    # Only a write still in progress fails: a confirmed run stays as it is.
    updated = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.CONFIRMING).update(
        status=ImportRun.Status.FAILED, failure=message[:255], finished_at=timezone.now()
    )
    if updated:
        run = ImportRun.objects.get(pk=run_id)
        _forget_file(run)
        _delete_staged(run_id)
        record(action="import", actor=run.confirmed_by, obj=run,
               summary=f"{run.get_kind_display()}の取込を中止: {message}")


def _queue_clean_up(run_id: int) -> None:
    from kombu.exceptions import KombuError

    from . import tasks

    try:
        tasks.clean_up_run.delay(run_id)
    except (KombuError, OSError):
        logger.warning("import run %s: clean-up not queued (broker unreachable); the beat's sweep does it", run_id)


def clean_up_confirmed(*, run_id: int) -> bool:
    """A written run's staged rows, then its upload (personal data) go; idempotent. The
    upload's name is cleared last, so a run that still names one is not cleaned up yet."""
    with transaction.atomic():  # one clean-up of a run at a time (a redelivery, the beat's sweep)
        run = (ImportRun.objects.select_for_update().filter(pk=run_id, status=ImportRun.Status.CONFIRMED)
               .only("pk", "file").first())
        if run is None:
            return False
        _delete_staged(run_id)
        _forget_file(run)
    return True


def clean_up_confirmed_runs(*, limit: int = 100) -> list[int]:
    """The beat's sweep: confirmed runs whose clean-up never ran (killed between commit and it)."""
    ids = list(ImportRun.objects.filter(status=ImportRun.Status.CONFIRMED).exclude(file="")
               .order_by("pk").values_list("pk", flat=True)[:limit])
    return [run_id for run_id in ids if clean_up_confirmed(run_id=run_id)]


def _forget_file(run: ImportRun) -> None:
    """A roster is personal data: once written, refused or expired its upload is deleted."""
    if run.file:
        run.file.delete(save=False)
        ImportRun.objects.filter(pk=run.pk).update(file="")


def _notify(run: ImportRun, user) -> None:
    """The outcome by e-mail when the job took longer than a minute (the clerk may have left the page).
    Never a 記号・番号 or a name: the run's number and a link."""
    if user is None or not user.email or run.started_at is None or run.finished_at is None:
        return
    if (run.finished_at - run.started_at).total_seconds() <= settings.KENPO_IMPORT_EMAIL_AFTER_SECONDS:
        return
    url = settings.SITE_URL.rstrip("/") + reverse("staff:imports:detail", args=[run.pk])
    lines = [f"{run.get_kind_display()}の取込 #{run.pk} の処理が終わりました。", "",
             f"状態: {run.get_status_display()}", f"データの行数: {run.row_count:,}"]
    if run.error_count:
        lines.append(f"エラーの行: {run.error_count:,}")
    if run.failure:
        lines.append(f"理由: {run.failure}")
    lines += ["", f"結果はこちら（ログインが必要です）: {url}"]
    try:
        send_mail(f"[けんぽポータル] 取込 #{run.pk}: {run.get_status_display()}", "\n".join(lines), None, [user.email])
    except Exception:
        logger.exception("import run %s: the outcome e-mail could not be sent", run.pk)


# --- Expiry and restarts -------------------------------------------------------------


def expire_runs(*, now=None) -> int:
    """Runs never confirmed expire: their upload, staged rows and samples (names, 記号・番号) go."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.KENPO_IMPORT_RUN_EXPIRY_DAYS)
    expired = 0
    for run in ImportRun.objects.filter(status__in=ImportRun.UNCONFIRMED, uploaded_at__lt=cutoff).only("pk", "file"):
        if ImportRun.objects.filter(pk=run.pk, status__in=ImportRun.UNCONFIRMED).update(
            status=ImportRun.Status.EXPIRED, samples={}, errors=[], warnings=[], finished_at=now,
        ):
            _forget_file(run)
            _delete_staged(run.pk)
            expired += 1
    return expired


def _writer_is_gone(run_id: int) -> bool:
    """True when no worker holds the run's lock (PostgreSQL); SQLite runs its jobs in-process."""
    if connection.vendor != "postgresql":
        return True
    with transaction.atomic():
        try:
            return ImportRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).exists()
        except DatabaseError:
            return False


def restart(*, run: ImportRun, now=None) -> bool:
    """Queue a stalled job again (nothing of a dead write was kept). False if it is still working."""
    from . import tasks

    now = now or timezone.now()
    lease = timedelta(seconds=settings.KENPO_IMPORT_STALLED_AFTER_SECONDS)
    if run.status == ImportRun.Status.CONFIRMING:
        if (run.started_at and run.started_at > now - lease) or not _writer_is_gone(run.pk):
            return False
        if ImportRun.objects.filter(pk=run.pk, status=run.status, started_at=run.started_at).update(started_at=now):
            transaction.on_commit(lambda: tasks.write_run.delay(run.pk))
            return True
        return False
    if run.status in (ImportRun.Status.QUEUED, ImportRun.Status.CHECKING):
        last = run.heartbeat_at or run.uploaded_at
        if last > now - lease:
            return False
        if ImportRun.objects.filter(pk=run.pk, status=run.status, heartbeat_at=run.heartbeat_at).update(
            status=ImportRun.Status.QUEUED, heartbeat_at=now
        ):
            transaction.on_commit(lambda: tasks.check_run.delay(run.pk))
            return True
    return False


def resume_stalled(*, now=None) -> list[int]:
    """The beat task: jobs whose worker died are queued again."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.KENPO_IMPORT_STALLED_AFTER_SECONDS)
    resumed = []
    for run in ImportRun.objects.filter(status__in=ImportRun.RUNNING, uploaded_at__lt=now - lease):
        if restart(run=run, now=now):
            resumed.append(run.pk)
    return resumed
