"""The import as background jobs: expiry, restarts, the outcome e-mail, the progress page,
NUL bytes, the tie rule, the 75+ warning, and CSV escaping in every writer."""

import re
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from eligibility.models import CardFacts, CardFactsChange, Person
from imports import services
from imports.models import ImportRun, StagedRegistrationRow, StagedRosterRow
from imports.services import import_confirm, import_preview
from staff.roles import CLERK
from staff.testing import login_with_mfa, make_staff
from tests.factories import (
    CardFactsFactory,
    EmployerFactory,
    PersonFactory,
    SocietyFactory,
    UserFactory,
)

from .helpers import HANAKO, JIRO, ROSTER_HEADER, TARO, csv_bytes, registration, roster

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def society():
    society = SocietyFactory()
    EmployerFactory(society=society, code="E0001")
    return society


@pytest.fixture
def clerk():
    return UserFactory(username="clerk", is_staff=True, email="clerk@example.jp")


# --- Expiry --------------------------------------------------------------------------


def test_it_expires_runs_never_confirmed_and_deletes_their_upload(society, clerk, settings):
    settings.KENPO_IMPORT_RUN_EXPIRY_DAYS = 7
    waiting = import_preview(kind="roster", society=society, data=roster(HANAKO, TARO), user=clerk)
    path = Path(waiting.file.path)
    assert path.exists() and StagedRosterRow.objects.filter(run_id=waiting.pk).count() == 2
    done = import_confirm(run=import_preview(kind="roster", society=society, data=roster(JIRO), user=clerk),
                          user=clerk)

    assert services.expire_runs(now=timezone.now() + timedelta(days=6)) == 0
    assert services.expire_runs(now=timezone.now() + timedelta(days=7, minutes=1)) == 1

    waiting.refresh_from_db()
    assert waiting.status == ImportRun.Status.EXPIRED and not waiting.file and not path.exists()
    assert waiting.samples == {} and not StagedRosterRow.objects.filter(run_id=waiting.pk).exists()
    assert waiting.counts == {"created": 2, "households_created": 1}  # the figures stay, the names go
    done.refresh_from_db()
    assert done.status == ImportRun.Status.CONFIRMED
    with pytest.raises(services.ImportRefused):
        import_confirm(run=waiting, user=clerk)
    assert Person.objects.count() == 1


# --- Restarts ------------------------------------------------------------------------


def test_a_write_whose_worker_died_is_restarted_and_writes_once(society, clerk, settings,
                                                                django_capture_on_commit_callbacks):
    settings.KENPO_IMPORT_STALLED_AFTER_SECONDS = 300
    run = import_preview(kind="roster", society=society, data=roster(HANAKO, TARO), user=clerk)
    # Confirmed, but the message never ran (the worker was killed before it committed).
    services.request_confirm(run=run, user=clerk, enqueue=False)
    assert services.resume_stalled() == []  # too early to tell
    run.refresh_from_db()
    assert run.status == ImportRun.Status.CONFIRMING and not run.is_stalled

    later = timezone.now() + timedelta(minutes=6)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resume_stalled(now=later) == [run.pk]
    run.refresh_from_db()
    assert run.status == ImportRun.Status.CONFIRMED
    assert Person.objects.count() == 2
    # A second message for the same run finds it written.
    assert services.write_run(run_id=run.pk).status == ImportRun.Status.CONFIRMED
    assert Person.objects.count() == 2


def test_a_check_whose_worker_died_is_started_again(society, clerk, django_capture_on_commit_callbacks):
    run = services._store(kind="roster", society=society, upload=_upload(roster(HANAKO)), user=clerk)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.CHECKING, rows_read=1,
                                               heartbeat_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resume_stalled(now=timezone.now()) == []  # uploaded just now
        assert services.resume_stalled(now=timezone.now() + timedelta(hours=1)) == [run.pk]
    run.refresh_from_db()
    assert run.status == ImportRun.Status.PREVIEW and run.counts == {"created": 1, "households_created": 1}
    assert StagedRosterRow.objects.filter(run_id=run.pk).count() == 1


def _upload(data: bytes):
    from django.core.files.base import ContentFile

    return ContentFile(data, name="x.csv")


# --- The outcome by e-mail ------------------------------------------------------------


def test_the_clerk_gets_the_outcome_by_email_when_it_took_over_a_minute(society, clerk, settings):
    settings.KENPO_IMPORT_EMAIL_AFTER_SECONDS = 60
    import_preview(kind="roster", society=society, data=roster(HANAKO), user=clerk)
    assert mail.outbox == []  # quick: the clerk is still looking at the page

    settings.KENPO_IMPORT_EMAIL_AFTER_SECONDS = -1  # as if it had taken longer
    run = import_preview(kind="roster", society=society, data=roster(HANAKO), user=clerk)
    import_confirm(run=run, user=clerk)

    assert [m.to for m in mail.outbox] == [["clerk@example.jp"], ["clerk@example.jp"]]
    body = mail.outbox[1].body
    assert "取込済み" in mail.outbox[1].subject and f"/staff/imports/{run.pk}/" in body
    assert "1234" not in body + mail.outbox[1].subject and "5678" not in body and "花子" not in body


# --- The progress page ------------------------------------------------------------------


def test_the_page_of_a_running_job_refreshes_itself_without_javascript(client, society):
    clerk = make_staff(role=CLERK, email="clerk@example.jp")
    login_with_mfa(client, clerk)
    run = services._store(kind="registration", society=society, upload=_upload(registration("1,1,00,1,2026-10-31")),
                          user=clerk)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.CHECKING, rows_total=100_000,
                                               rows_read=25_000)

    page = client.get(f"/staff/imports/{run.pk}/").content.decode()
    assert '<meta http-equiv="refresh" content="3">' in page
    assert re.search(r'<progress id="progress-1" max="100000" value="25000">25%</progress>', page)
    assert f'href="/staff/imports/{run.pk}/"' in page  # a reload link as well

    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.PREVIEW, rows_read=100_000, row_count=100_000,
                                               rows_checked=100_000)
    page = client.get(f"/staff/imports/{run.pk}/").content.decode()
    assert "http-equiv=\"refresh\"" not in page and 'value="100000">100%</progress>' in page


def test_a_finished_check_shows_every_row_read(client, society):
    clerk = make_staff(role=CLERK, email="clerk@example.jp")
    login_with_mfa(client, clerk)
    # A blank line at the end: the line count (the estimate while reading) is one more than the rows.
    run = import_preview(kind="roster", society=society, data=roster(HANAKO, TARO) + b"\r\n", user=clerk)

    run.refresh_from_db()
    assert (run.rows_read, run.rows_checked, run.row_count) == (2, 2, 2)
    page = client.get(f"/staff/imports/{run.pk}/").content.decode()
    assert page.count('max="2" value="2">100%</progress>') == 2


def test_the_upload_request_only_stores_the_file_and_queues_the_check(client, society):
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@example.jp"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/staff/imports/", {"kind": "roster", "society": society.pk,
                                               "file": SimpleUploadedFile("r.csv", roster(HANAKO))})
    run = ImportRun.objects.get()
    # Without its on-commit job the run waits for a worker: nothing was read in the request.
    assert response.status_code == 302 and run.status == ImportRun.Status.QUEUED and run.row_count == 0
    assert "読込待ち" in client.get(f"/staff/imports/{run.pk}/").content.decode()


# --- NUL bytes and control characters ----------------------------------------------------


def test_a_nul_byte_in_a_cell_is_a_clear_row_error(society, clerk):
    run = import_preview(kind="roster", society=society, data=roster(HANAKO.replace("花子", "花\x00子"), TARO),
                         user=clerk)

    assert run.status == ImportRun.Status.REFUSED
    assert run.errors == [{"line": 2, "message": "使えない制御文字（NULなど）が含まれています。"}]
    assert not Person.objects.exists()


def test_a_nul_byte_in_the_header_or_a_utf16_file_fails_with_a_reason(society, clerk):
    run = import_preview(kind="roster", society=society, data=csv_bytes(ROSTER_HEADER + "\x00", HANAKO), user=clerk)
    assert run.status == ImportRun.Status.FAILED and "制御文字" in run.failure and "\x00" not in run.failure

    utf16 = ("記号,番号,枝番,利用登録状況,基準日\r\n1,1,00,1,2026-10-31\r\n").encode("utf-16-le")
    run = import_preview(kind="registration", society=society, data=utf16, user=clerk)
    assert run.status == ImportRun.Status.FAILED and "UTF-16" in run.failure


def test_a_nul_byte_uploaded_through_the_page_is_no_500(client, society):
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@example.jp"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/staff/imports/", {"kind": "roster", "society": society.pk,
                                                   "file": SimpleUploadedFile("r.csv", roster("\x00" + HANAKO))})
    run = ImportRun.objects.get()
    page = client.get(response["Location"])
    assert page.status_code == 200 and "使えない制御文字" in page.content.decode()
    assert client.get(f"/staff/imports/{run.pk}/errors.csv").status_code == 200


# --- The tie rule -------------------------------------------------------------------


@pytest.fixture
def hanako(society):
    person = PersonFactory(household__society=society, household__symbol="1234", household__number="5678",
                           branch_number="00")
    CardFactsFactory(person=person, has_card=True, registered=True, registration_source="member",
                     registration_as_of=date(2026, 10, 31))
    return person


@pytest.mark.parametrize("source", ["member", "staff"])
def test_a_statement_of_the_files_own_day_is_kept(society, clerk, hanako, source):
    CardFacts.objects.filter(person=hanako).update(registration_source=source)

    run = import_preview(kind="registration", society=society, data=registration("1234,5678,00,0,2026-10-31"),
                         user=clerk)

    assert run.counts == {"kept": 1}
    import_confirm(run=run, user=clerk)
    card = CardFacts.objects.get(person=hanako)
    assert card.registered and card.registration_source == source
    assert not CardFactsChange.objects.exists()


def test_a_statement_of_the_day_before_is_overwritten(society, clerk, hanako):
    run = import_preview(kind="registration", society=society, data=registration("1234,5678,00,0,2026-11-01"),
                         user=clerk)

    assert run.counts == {"updated": 1}


def test_a_corrected_national_file_of_the_same_day_overwrites_the_first(society, clerk, hanako):
    CardFacts.objects.filter(person=hanako).update(registration_source="national_file")

    run = import_preview(kind="registration", society=society, data=registration("1234,5678,00,0,2026-10-31"),
                         user=clerk)

    assert run.counts == {"updated": 1}


def test_the_import_page_states_the_tie_rule(client, society):
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@example.jp"))

    assert "同じ日の申告は、申告を残します" in client.get("/staff/imports/").content.decode()


# --- R11: 75 and over ---------------------------------------------------------------


def test_a_row_of_someone_aged_75_without_an_end_is_accepted_with_a_warning(society, clerk):
    today = timezone.localdate()
    old = f"{today.year - 80}-04-01"
    row = JIRO.replace("1960/8/31", old).replace("20210901", f"{today.year - 20}0401")
    ended = HANAKO.replace("1985-11-14", old).replace("2010-04-01,", f"2010-04-01,{today.year - 5}-04-01")

    run = import_preview(kind="roster", society=society, data=roster(row, ended), user=clerk)

    assert run.status == ImportRun.Status.PREVIEW and run.error_count == 0
    assert run.warning_count == 1 and run.warnings[0]["line"] == 2
    assert "75歳の誕生日" in run.warnings[0]["message"] and "資格喪失日が空" in run.warnings[0]["message"]
    import_confirm(run=run, user=clerk)
    assert Person.objects.count() == 2


# --- CSV: one escaping function for every file the site writes -------------------------


def test_every_csv_the_site_writes_goes_through_the_one_escaping_function():
    writers = []
    for path in ROOT.rglob("*.py"):
        # bench/ is left out: a benchmark's floor is the bare csv module by design.
        if {".venv", "tests", "bench"} & set(path.parts) or path.name == "csvfiles.py":
            continue
        if "csv.writer(" in path.read_text(encoding="utf-8"):
            writers.append(str(path.relative_to(ROOT)))
    assert writers == []


def test_the_error_list_csv_escapes_its_cells(client, society):
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@example.jp"))
    run = services._store(kind="roster", society=society, upload=_upload(roster(HANAKO)), user=None)
    ImportRun.objects.filter(pk=run.pk).update(status="refused", errors=[{"line": 2, "message": "=HYPERLINK(1)"}],
                                               error_count=1)

    body = client.get(f"/staff/imports/{run.pk}/errors.csv").content.decode("utf-8-sig")
    assert "2,'=HYPERLINK(1)" in body


def test_staged_rows_go_once_a_run_is_written(society, clerk, django_capture_on_commit_callbacks):
    run = import_preview(kind="registration", society=society, data=registration("1,1,00,1,2026-10-31"), user=clerk)
    assert run.status == ImportRun.Status.REFUSED  # nobody with that key
    assert not StagedRegistrationRow.objects.filter(run_id=run.pk).exists() and not run.file


@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_loaded_by_a_thread_while_the_next_rows_are_parsed(monkeypatch):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the background load is PostgreSQL's COPY")
    monkeypatch.setattr(services, "BACKGROUND_LOAD_BYTES", 0)
    monkeypatch.setattr("imports.staging.CHUNK", 7)  # several chunks
    society = SocietyFactory()
    clerk = UserFactory(username="clerk", is_staff=True)
    for n in range(1, 31):
        CardFactsFactory(person=PersonFactory(household__society=society, household__symbol="9",
                                              household__number=str(n), branch_number="00"), registered=False,
                         registration_source="")
    lines = [f"9,{n},00,1,2026-10-31" for n in range(1, 31)]

    interval = sys.getswitchinterval()

    run = import_preview(kind="registration", society=society, data=registration(*lines), user=clerk)

    assert run.counts == {"updated": 30} and run.row_count == 30
    assert sys.getswitchinterval() == interval  # 1 ms only while the loader ran
    import_confirm(run=run, user=clerk)
    assert CardFacts.objects.filter(registered=True).count() == 30
    assert not StagedRegistrationRow.objects.filter(run_id=run.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_file_classified_batch_by_batch_as_it_loads_previews_as_the_full_classification(monkeypatch):
    """Issue 26: the loader's thread classifies each batch it loads while the rest is parsed; the
    counts, kinds and samples (the file's first of each group, across batches) are the full
    classification's, and the same person in two batches is still refused."""
    from django.db import connection, transaction

    from imports import registration as checks

    if connection.vendor != "postgresql":
        pytest.skip("the background load is PostgreSQL's COPY")
    monkeypatch.setattr(services, "BACKGROUND_LOAD_BYTES", 0)
    monkeypatch.setattr("imports.staging.CHUNK", 5)  # chunks of 5 rows, and of 1 at the end
    monkeypatch.setattr("imports.staging._Loader.QUEUED", 1)  # a batch is one or two chunks
    monkeypatch.setattr(checks, "SAMPLE_SIZE", 3)
    batches = []
    classify = checks.Summary.classify
    monkeypatch.setattr(checks.Summary, "classify", lambda self, conn, last, rows, **kw: (
        batches.append((last, rows)), classify(self, conn, last, rows, **kw))[1])
    society = SocietyFactory()
    clerk = UserFactory(username="clerk", is_staff=True)
    as_of = date(2026, 10, 31)
    kinds = [(None, 1), ({"registered": False, "registration_source": ""}, 0),
             ({"registered": True, "registration_source": "national_file", "registration_as_of": as_of}, 1),
             ({"registered": True, "registration_source": "member", "registration_as_of": as_of}, 0),
             ({"registered": False, "registration_source": "national_file",
               "registration_as_of": date(2026, 9, 30)}, 1),
             ({"registered": True, "registration_source": "staff", "registration_as_of": date(2026, 9, 1)}, 1)]
    lines = []
    for n in range(1, 25):
        facts, registered = kinds[(n * 7) % len(kinds)]
        person = PersonFactory(household__society=society, household__symbol="77", household__number=str(n),
                               branch_number="00")
        if facts:
            CardFactsFactory(person=person, **facts)
        lines.append(f"77,{n},00,{registered},{as_of.isoformat()}")

    run = import_preview(kind="registration", society=society, data=registration(*lines), user=clerk)

    assert len(batches) >= 3 and sum(rows for _last, rows in batches) == 24
    with transaction.atomic():
        checks.classify(run.pk, society.pk)
        checks.mark_duplicates()
        counts, kinds_found, bad = checks.tally()
        assert bad == 0
        samples = checks.samples(kinds_found, counts)
        checks.done()
    assert (run.status, run.counts, run.kinds, run.error_count) == ("preview", counts, kinds_found, 0)
    assert run.samples == samples and list(run.samples) == list(samples)
    assert all(len(found) == 3 for found in run.samples.values())
    assert sum(run.counts.values()) == 24 and len(run.kinds) >= 4

    # The same person on line 2 and on line 24 (another batch): refused, and the row named.
    batches.clear()
    run = import_preview(kind="registration", society=society, data=registration(*lines, lines[0]), user=clerk)
    assert len(batches) >= 3
    assert run.status == ImportRun.Status.REFUSED
    assert run.errors == [{"line": 26, "message": "記号・番号・枝番が2行目と重複しています。"}]


def test_the_beat_finishes_the_clean_up_of_a_written_run_whose_worker_died_before_it(tmp_path):
    """Issue 27: the clean-up is a job of its own; the beat's sweep does what a killed one left."""
    from django.core.files.base import ContentFile

    from tests.factories import SocietyFactory

    run = ImportRun.objects.create(kind="registration", society=SocietyFactory(), status=ImportRun.Status.CONFIRMED)
    run.file.save("registration.csv", ContentFile(b"77,1,00,1,2026-10-31\r\n"))
    path = run.file.path
    StagedRegistrationRow.objects.create(run=run, line=2, symbol="77", number="1", branch_number="00",
                                         registered=True, as_of=date(2026, 10, 31))
    unconfirmed = ImportRun.objects.create(kind="registration", society=run.society, status=ImportRun.Status.PREVIEW)
    unconfirmed.file.save("kept.csv", ContentFile(b"x"))
    assert services.clean_up_confirmed_runs() == [run.pk]
    run.refresh_from_db()
    assert not run.file and not StagedRegistrationRow.objects.filter(run_id=run.pk).exists()
    assert not Path(path).exists()
    assert ImportRun.objects.get(pk=unconfirmed.pk).file  # a run not yet confirmed keeps its upload
    assert services.clean_up_confirmed_runs() == []
