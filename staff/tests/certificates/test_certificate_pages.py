import csv
import io
from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEntry
from certificates import services
from certificates.models import Basis, BatchItem, IssueBatch, ReissueRequest
from certificates.tests.conftest import NO_CARD, person
from staff.roles import CLERK
from staff.testing import login_with_mfa, make_staff

pytestmark = pytest.mark.django_db
PERMS = ["issue_certificate", "review_request", "view_reissuerequest", "export_list", "download_pdf"]


def staff_user(username="tanaka", perms=PERMS):
    """A staff login with exactly ``perms`` of this app (roles are the staff app's business)."""
    user = make_staff(role=None, email=f"{username}@kenpo.example.jp")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="certificates", codename__in=perms))
    return user


@pytest.fixture
def staff(client):
    user = staff_user()
    login_with_mfa(client, user)
    return user


def test_the_clerk_role_can_do_all_of_this():
    user = make_staff(role=CLERK, email="clerk@kenpo.example.jp")
    assert all(user.has_perm(f"certificates.{p}") for p in PERMS)


# --- staff review ----------------------------------------------------------------------------


def test_the_queue_lists_pending_requests_oldest_first(client, staff, alice, alice_person, bob, bob_person):
    first = services.request_submit(person=bob_person, requested_by=bob, reason="card_lost")
    second = services.request_submit(person=alice_person, requested_by=alice, reason="ecert_expired")
    page = client.get(reverse("certificates:review_queue")).content.decode()
    assert page.index(f"申請 {first.pk}") < page.index(f"申請 {second.pk}")


def test_staff_approve_in_one_click_from_the_list(client, staff, alice, alice_person,
                                                  django_capture_on_commit_callbacks):
    req = services.request_submit(person=alice_person, requested_by=alice, reason="card_lost")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("certificates:review_approve", args=[req.pk]), {"next": "queue"})
    assert response.url == reverse("certificates:review_queue")
    req.refresh_from_db()
    # Printed with the day's print file, not downloaded one by one.
    assert req.status == "approved" and req.certificates.get().status == "queued"
    assert "本日分の印刷用ファイル" in client.get(response.url).content.decode()


def test_staff_reject_with_a_standard_reason_from_the_detail(client, staff, alice, alice_person):
    req = services.request_submit(person=alice_person, requested_by=alice, reason="card_lost")
    response = client.post(reverse("certificates:review_reject", args=[req.pk]),
                           {"next": "detail", f"r{req.pk}-reject_reason": "has_usable_card",
                            f"r{req.pk}-note": "カードは有効です"})
    assert response.url == reverse("certificates:review_detail", args=[req.pk])
    req.refresh_from_db()
    assert (req.status, req.reject_reason, req.review_note, req.reviewed_by) == (
        "rejected", "has_usable_card", "カードは有効です", staff)


def test_a_viewer_reads_requests_but_cannot_review_them(client, alice_person):
    from staff.roles import VIEWER
    from staff.testing import make_staff

    req = ReissueRequest.objects.create(person=alice_person, reason="card_lost")
    login_with_mfa(client, make_staff(role=VIEWER, email="viewer@kenpo.example.jp"))
    queue = client.get(reverse("certificates:review_queue"))
    detail = client.get(reverse("certificates:review_detail", args=[req.pk]))
    assert queue.status_code == detail.status_code == 200
    assert reverse("certificates:review_approve", args=[req.pk]) not in queue.content.decode() + detail.content.decode()
    assert client.post(reverse("certificates:review_approve", args=[req.pk])).status_code == 403


def test_review_needs_the_permission(client, alice, alice_person):
    login_with_mfa(client, staff_user("viewer", perms=[]))
    assert client.get(reverse("certificates:review_queue")).status_code == 403
    client.force_login(alice)
    assert client.get(reverse("certificates:review_queue")).status_code == 403


def test_downloads_are_logged(client, staff, insured_and_dependent_72, today):
    cert = services.certificate_issue(person=insured_and_dependent_72[0], basis=Basis.CUTOFF, issued_by=None)
    response = client.get(reverse("certificates:certificate_pdf", args=[cert.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    entry = AuditEntry.objects.get(action="download")
    assert entry.actor == staff and entry.object_id == str(cert.pk)
    assert entry.household_id == insured_and_dependent_72[0].household_id
    assert "4321" not in entry.summary


# --- the ex-officio list in the admin -------------------------------------------------------------


@pytest.fixture
def candidates(insured_and_dependent_72):
    return [*insured_and_dependent_72, person(given_name="三郎", eligible_from=date(2025, 5, 1), card=NO_CARD)]


def test_the_admin_list_shows_the_candidates_with_their_basis(client, staff, candidates):
    page = client.get(reverse("admin:certificates_exofficiocandidate_changelist")).content.decode()
    assert "高橋 健一" in page and "高橋 ハル" in page and "三郎" not in page
    assert "職権①：令和6年12月1日以前の資格取得" in page


def test_the_admin_list_searches_by_name_and_kana_but_never_by_symbol_and_number(client, staff, candidates):
    url = reverse("admin:certificates_exofficiocandidate_changelist")
    assert "高橋 ハル" in client.get(url, {"q": "タカハシ"}).content.decode()
    # A GET search would put 記号・番号 in URLs and logs (R9): they match nothing here.
    assert "高橋 ハル" not in client.get(url, {"q": "4321-8765"}).content.decode()


def test_the_admin_list_filters_by_age_band(client, staff, candidates):
    url = reverse("admin:certificates_exofficiocandidate_changelist")
    page = client.get(url, {"age": "70-74"}).content.decode()
    assert "高橋 ハル" in page and "高橋 健一" not in page


def _export(client, url, params, capture) -> bytes:
    """Start the export job, let it run (in-process), then download its file from the job's page."""
    response = client.get(url, params)
    # The list links to the exports app with its filter, which queues the job.
    assert response.status_code == 302 and response["Location"].startswith("/staff/exports/start/ex_officio/")
    start = response["Location"]
    assert "CSV出力を開始する" in client.get(start).content.decode()  # a GET starts nothing
    with capture(execute=True):
        response = client.post(start)
    assert response.status_code == 302 and response["Location"].startswith("/staff/exports/")
    page = client.get(response["Location"]).content.decode()
    assert "出力済み" in page and "CSVをダウンロード（" in page
    return b"".join(client.get(response["Location"] + "download/").streaming_content)


@pytest.mark.parametrize(("encoding", "codec"), [("utf8", "utf-8-sig"), ("cp932", "cp932")])
def test_the_csv_opens_in_japanese_excel(client, staff, candidates, encoding, codec,
                                         django_capture_on_commit_callbacks):
    url = reverse("admin:certificates_exofficiocandidate_export", args=[encoding])
    body = _export(client, url, {"age": "70-74"}, django_capture_on_commit_callbacks)
    if encoding == "utf8":
        assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode(codec))))
    assert rows[0][:4] == ["記号", "番号", "枝番", "氏名"]
    assert [r[3] for r in rows[1:]] == ["高橋 ハル"]
    # Requested, written (with its row count), downloaded (with its row count).
    assert AuditEntry.objects.filter(action="export").count() == 2
    assert AuditEntry.objects.filter(action="export", details__rows=1).exists()
    assert AuditEntry.objects.filter(action="download", details__rows=1).exists()


def test_the_export_escapes_every_column_including_the_employer_code(client, staff, candidates,
                                                                      django_capture_on_commit_callbacks):
    haru = next(p for p in candidates if p.given_name == "ハル")
    employer = haru.household.employer
    employer.code, employer.name = "=1+2", "@SUM(A1)"
    employer.save()
    haru.family_name = "-高橋"
    haru.save()

    url = reverse("admin:certificates_exofficiocandidate_export", args=["utf8"])
    rows = list(csv.reader(io.StringIO(_export(client, url, {"age": "70-74"}, django_capture_on_commit_callbacks)
                                       .decode("utf-8-sig"))))
    assert rows[1][3] == "'-高橋 ハル"
    assert rows[1][8:10] == ["'=1+2", "'@SUM(A1)"]


def test_only_the_requester_sees_and_downloads_an_export(client, staff, candidates,
                                                         django_capture_on_commit_callbacks):
    from exports.models import ExportJob

    start = client.get(reverse("admin:certificates_exofficiocandidate_export", args=["utf8"]))["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(start)
    job = ExportJob.objects.get()
    login_with_mfa(client, staff_user("other"))
    assert client.get(f"/staff/exports/{job.pk}/").status_code == 404
    assert client.get(f"/staff/exports/{job.pk}/download/").status_code == 404


def test_export_needs_the_permission(client, candidates):
    login_with_mfa(client, staff_user("issuer", perms=["issue_certificate"]))
    url = reverse("admin:certificates_exofficiocandidate_export", args=["utf8"])
    assert client.get(url).status_code == 403


def test_issuing_for_everyone_matching_the_filter_starts_a_batch(client, staff, candidates,
                                                                 django_capture_on_commit_callbacks):
    url = reverse("admin:certificates_exofficiocandidate_issue_all") + "?age=70-74"
    assert "1 人" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    batch = IssueBatch.objects.get()
    assert response.url == reverse("certificates:batch_detail", args=[batch.pk])
    assert batch.total == 1 and batch.status == "done" and batch.print_files.count() == 1
    assert batch.filter_description == "年齢：70〜74歳"  # in the sidebar's words, never "age=70-74"
    page = client.get(response.url).content.decode()
    assert "1 / 1" in page and 'http-equiv="refresh"' not in page
    print_file = batch.print_files.get()
    download = client.get(reverse("certificates:print_file_pdf", args=[print_file.pk]))
    assert download.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="download", object_id=str(print_file.pk)).exists()
    client.post(reverse("certificates:batch_mark", args=[batch.pk]), {"to": "printed"})
    assert set(batch.certificates.values_list("status", flat=True)) == {"printed"}


def test_the_issue_action_on_selected_rows_starts_a_batch(client, staff, candidates,
                                                          django_capture_on_commit_callbacks):
    url = reverse("admin:certificates_exofficiocandidate_changelist")
    response = client.post(url, {"action": "issue_selected", "_selected_action": [candidates[0].pk]})
    batch = IssueBatch.objects.get()
    assert response.url == reverse("certificates:batch_detail", args=[batch.pk])
    assert list(BatchItem.objects.values_list("person_id", flat=True)) == [candidates[0].pk]


def test_the_batch_page_refreshes_while_running_and_lists_failures(client, staff, candidates,
                                                                   django_capture_on_commit_callbacks):
    from certificates.selectors import ex_officio_candidates

    with django_capture_on_commit_callbacks():
        batch = services.batch_start(candidates=ex_officio_candidates(today=date(2026, 11, 25)), started_by=staff)
    BatchItem.objects.filter(batch=batch).update(state="failed", error="OSError: disk full")
    services.batch_refresh(batch_id=batch.pk)
    page = client.get(reverse("certificates:batch_detail", args=[batch.pk])).content.decode()
    assert "OSError: disk full" in page and "失敗した分を再実行" in page


def test_the_viewer_role_sees_the_list_but_cannot_issue_or_export(client, candidates):
    from staff.roles import VIEWER

    login_with_mfa(client, make_staff(role=VIEWER, email="viewer@kenpo.example.jp"))
    page = client.get(reverse("admin:certificates_exofficiocandidate_changelist")).content.decode()
    assert "高橋 健一" in page and "issue_selected" not in page and "CSV" not in page
    assert client.get(reverse("admin:certificates_exofficiocandidate_issue_all")).status_code == 403


@pytest.mark.parametrize("name", ["export", "issue_all"])
def test_a_filter_it_cannot_read_sends_staff_back_to_the_list_not_to_an_error(client, staff, candidates, name):
    args = ["utf8"] if name == "export" else []
    response = client.get(reverse(f"admin:certificates_exofficiocandidate_{name}", args=args), {"bogus": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:certificates_exofficiocandidate_changelist")
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_csv_never_lets_excel_run_a_name_as_a_formula():
    from core.csvfiles import escape_cell

    assert escape_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert escape_cell("@SUM(A1)") == "'@SUM(A1)"
    assert escape_cell("高橋 ハル") == "高橋 ハル"


def test_a_batchs_progress_moves_with_its_first_chunk_before_any_pdf(client, staff, candidates, monkeypatch):
    from certificates import selectors
    from eligibility.selectors import today

    monkeypatch.setattr(services.batches, "FIRST_CHUNK_SIZE", 1)
    batch = services.batch_start(candidates=selectors.ex_officio_candidates(today=today()), started_by=staff)
    first, *_later = services.batch_chunks(batch_id=batch.pk)
    assert len(first) == 1 and batch.total == 2
    monkeypatch.setattr(services.batches.transaction, "on_commit", lambda fn: None)  # no print files yet
    services.batch_process_chunk(batch_id=batch.pk, item_ids=first)

    page = client.get(reverse("certificates:batch_detail", args=[batch.pk])).content.decode()
    assert "1 / 2 件（50%）" in page  # issuing: moved
    assert "0 / 2 件（0%）" in page  # the PDFs: not yet
