"""The clerk's tools: void with a reason and a confirmation, issue or re-print one
certificate from the person's page, a paper application, the day's print files, marks
per employer, the batch page inside the admin."""

import io
from datetime import date

import pytest
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEntry
from certificates import services
from certificates.models import Basis, EligibilityCertificate, PrintFile, ReissueRequest
from certificates.tests.conftest import NO_CARD, person
from tests.factories import EmployerFactory, HouseholdFactory

from .test_certificate_pages import staff_user

pytestmark = pytest.mark.django_db
Cert = EligibilityCertificate


@pytest.fixture
def staff(client):
    """A clerk (担当者): the role that does this work."""
    from staff.roles import CLERK
    from staff.testing import login_with_mfa, make_staff

    user = make_staff(role=CLERK, email="clerk@kenpo.example.jp")
    login_with_mfa(client, user)
    return user


@pytest.fixture
def certificate(insured_and_dependent_72, today):
    return services.certificate_issue(person=insured_and_dependent_72[0], basis=Basis.CUTOFF, issued_by=None,
                                      today=today)


def test_voiding_asks_for_a_reason_and_a_confirmation_and_is_audited(client, staff, certificate):
    url = reverse("certificates:certificate_void") + f"?ids={certificate.pk}"
    page = client.get(url).content.decode()
    for reason in ("誤交付", "記載事項変更", "紛失", "資格喪失", "更新"):
        assert reason in page
    assert certificate.serial in page and "元に戻すことはできません" in page
    assert client.post(url, {"reason": "lost"}).status_code == 200  # no confirmation: nothing happens
    certificate.refresh_from_db()
    assert certificate.status == "queued"
    response = client.post(url, {"reason": "lost", "confirm": "on"})
    assert response.url == reverse("certificates:person_certificates", args=[certificate.person_id])
    certificate.refresh_from_db()
    assert certificate.status == "queued"  # four eyes: valid until a second clerk approves (staff/tests)
    services.certificates_void(queryset=Cert.objects.filter(pk=certificate.pk), reason="lost", by=staff)
    certificate.refresh_from_db()
    assert (certificate.status, certificate.void_reason, certificate.voided_by) == ("void", "lost", staff)
    entry = AuditEntry.objects.get(action="change", object_id=str(certificate.pk))
    assert "紛失" in entry.summary and entry.actor == staff


def test_without_four_eyes_a_clerk_voids_at_once(client, staff, certificate, settings):
    settings.KENPO_FOUR_EYES = False
    url = reverse("certificates:certificate_void") + f"?ids={certificate.pk}"
    client.post(url, {"reason": "lost", "confirm": "on"})
    certificate.refresh_from_db()
    assert (certificate.status, certificate.voided_by) == ("void", staff)


def test_the_admin_void_action_leads_to_the_confirmation(client, staff, certificate):
    response = client.post(reverse("admin:certificates_eligibilitycertificate_changelist"),
                           {"action": "void_selected", "_selected_action": [certificate.pk]})
    assert response.url == reverse("certificates:certificate_void") + f"?ids={certificate.pk}"
    certificate.refresh_from_db()
    assert certificate.status == "queued"  # not before the confirmation


def test_a_voided_certificates_pdf_is_refused(client, staff, certificate):
    services.certificates_void(queryset=Cert.objects.filter(pk=certificate.pk), reason="error", by=staff)
    response = client.get(reverse("certificates:certificate_pdf", args=[certificate.pk]))
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action="download").exists()
    page = client.get(response.url).content.decode()
    assert "無効の資格確認書は印刷・ダウンロードできません" in page


def test_the_admin_shows_the_printed_data_as_a_labelled_table(client, staff, certificate):
    page = client.get(reverse("admin:certificates_eligibilitycertificate_change", args=[certificate.pk]))
    html = page.content.decode()
    assert '<th scope="row">有効期限</th><td>令和13年11月24日' in html
    assert '<th scope="row">本人・家族</th><td>本人（被保険者）</td>' in html
    assert '"valid_until"' not in html  # no raw JSON


def test_a_clerk_issues_and_reprints_one_certificate_from_the_persons_page(client, staff,
                                                                           insured_and_dependent_72):
    insured = insured_and_dependent_72[0]
    person_page = client.get(reverse("admin:eligibility_person_change", args=[insured.pk])).content.decode()
    tools = reverse("certificates:person_certificates", args=[insured.pk])
    assert tools in person_page
    assert "1枚交付する" in client.get(tools).content.decode()
    response = client.post(reverse("certificates:person_issue", args=[insured.pk]), {"basis": "cutoff"})
    assert response.url == tools
    first = Cert.objects.get(person=insured)
    assert first.batch is None and first.status == "queued" and first.queued_by == staff
    assert AuditEntry.objects.filter(action="issue", object_id=str(first.pk)).exists()
    download = reverse("certificates:certificate_pdf", args=[first.pk])
    assert download in client.get(tools).content.decode()
    one, two = client.get(download).content, client.get(download).content
    assert one == two and one.startswith(b"%PDF")  # a re-print is the same file
    # Re-issue: the old one is replaced, a new serial is printed.
    client.post(reverse("certificates:person_issue", args=[insured.pk]), {"basis": "cutoff"})
    first.refresh_from_db()
    assert (first.status, first.void_reason) == ("void", "replaced")
    assert Cert.objects.filter(person=insured).exclude(status="void").count() == 1


def test_single_issue_is_refused_with_the_reason_for_a_post_member_without_address(client, staff):
    employer = EmployerFactory()
    holder = person(household=HouseholdFactory(employer=employer, society=employer.society,
                                               voluntary_continuation=True), card=NO_CARD)
    response = client.post(reverse("certificates:person_issue", args=[holder.pk]), {"basis": "cutoff"}, follow=True)
    assert "送付先の住所が名簿にありません" in response.content.decode()
    assert not Cert.objects.exists()


def test_a_paper_application_is_entered_with_the_date_received(client, staff, alice_person):
    url = reverse("certificates:paper_application", args=[alice_person.pk])
    assert "申請書の受付日" in client.get(url).content.decode()
    page = client.post(url, {"reason": "card_lost", "received_on": "2099-01-01"}).content.decode()
    assert "未来の日付は入力できません" in page
    page = client.post(url, {"reason": "card_lost", "received_on": "2026-11-20",
                             "details": "番号 1234 5678 9018"}).content.decode()
    assert not ReissueRequest.objects.exists()  # a My Number is refused here too
    response = client.post(url, {"reason": "card_lost", "received_on": "2026-11-20", "noticed_on": "2026-11-18"})
    req = ReissueRequest.objects.get()
    assert response.url == reverse("certificates:review_detail", args=[req.pk])
    assert (req.received_on, req.entered_by, req.requested_by, req.status) == (date(2026, 11, 20), staff, None,
                                                                                 "submitted")
    detail = client.get(response.url).content.decode()
    assert "紙の申請書" in detail and "令和8年11月20日" in detail
    assert AuditEntry.objects.filter(object_id=str(req.pk), summary__contains="紙の交付申請").exists()


def test_paper_applications_need_the_review_permission(client, alice_person):
    from staff.testing import login_with_mfa

    login_with_mfa(client, staff_user("issuer", perms=["issue_certificate"]))
    assert client.get(reverse("certificates:paper_application", args=[alice_person.pk])).status_code == 403


def test_the_day_s_print_files_are_made_per_delivery_route_on_demand(client, staff, employer,
                                                                     insured_and_dependent_72,
                                                                     django_capture_on_commit_callbacks):
    insured, _dependent = insured_and_dependent_72
    voluntary = person(household=HouseholdFactory(employer=employer, society=employer.society,
                                                  voluntary_continuation=True, postal_code="105-0011",
                                                  address="東京都港区芝公園4-2-8"), card=NO_CARD)
    for holder in (insured, voluntary):
        client.post(reverse("certificates:person_issue", args=[holder.pk]), {"basis": "cutoff"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("certificates:daily_print_files_make"))
    assert response.url == reverse("admin:certificates_printfile_changelist")
    files = {f.route: f for f in PrintFile.objects.filter(batch__isnull=True)}
    assert set(files) == {"employer", "post"}
    assert all(f.rendered_at and f.pages == 2 for f in files.values())  # a cover sheet and the sheet
    listing = client.get(response.url).content.decode()
    assert "今すぐ作成" in listing and reverse("certificates:print_file_pdf", args=[files["post"].pk]) in listing
    text = PdfReader(io.BytesIO(client.get(reverse("certificates:print_file_pdf", args=[files["post"].pk]))
                                .content)).pages[0].extract_text()
    assert "本人あて直接郵送分" in text
    with django_capture_on_commit_callbacks(execute=True):  # nothing is printed twice
        client.post(reverse("certificates:daily_print_files_make"))
    assert PrintFile.objects.filter(batch__isnull=True).count() == 2


def test_a_failed_print_file_is_visible_to_staff(client, staff):
    PrintFile.objects.create(day=date(2026, 11, 25), route="employer", sequence=1, certificate_count=3,
                             description="青空商事", error="OSError: disk full", attempts=2)
    listing = client.get(reverse("admin:certificates_printfile_changelist")).content.decode()
    assert "作成に失敗（2回目）：OSError: disk full" in listing


def test_printed_and_mailed_are_set_per_employer_group(client, staff, today,
                                                       django_capture_on_commit_callbacks):
    from certificates.selectors import ex_officio_candidates

    first, second = EmployerFactory(code="E1", name="一番商事"), EmployerFactory(code="E2", name="二番工業")
    for employer in (first, second):
        person(household=HouseholdFactory(employer=employer, society=employer.society), card=NO_CARD)
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.batch_start(candidates=ex_officio_candidates(today=today), started_by=staff)
    page = client.get(reverse("certificates:batch_detail", args=[batch.pk])).content.decode()
    assert "一番商事" in page and "二番工業" in page
    assert 'class="breadcrumbs"' in page and reverse("admin:certificates_issuebatch_changelist") in page
    mark = reverse("certificates:batch_mark", args=[batch.pk])
    client.post(mark, {"to": "printed", "group": str(first.pk)})
    assert dict(batch.certificates.values_list("employer__code", "status")) == {"E1": "printed", "E2": "rendered"}
    client.post(mark, {"to": "mailed", "group": str(first.pk)})
    client.post(mark, {"to": "printed", "group": str(second.pk)})
    assert dict(batch.certificates.values_list("employer__code", "status")) == {"E1": "mailed", "E2": "printed"}
    assert client.post(mark, {"to": "printed", "group": "../etc"}).status_code == 404


def test_single_issue_proposes_the_persons_real_ex_officio_basis(client, staff, insured_and_dependent_72, today):
    insured = insured_and_dependent_72[0]  # no card, insured since 2015: R6 basis ① (cutoff)
    html = client.get(reverse("certificates:person_certificates", args=[insured.pk])).content.decode()
    assert '<option value="cutoff" selected>' in html and "本日の職権交付の根拠：職権①" in html

    services.certificate_issue(person=insured, basis=Basis.CUTOFF, issued_by=None, today=today)
    html = client.get(reverse("certificates:person_certificates", args=[insured.pk])).content.decode()
    # Holding a valid certificate: no ex-officio basis today, so a re-issue is an application.
    assert '<option value="application" selected>' in html and "職権交付の対象ではありません" in html


def test_the_monthly_proposal_lists_who_is_new_since_the_last_batch(client, staff, insured_and_dependent_72, today):
    from certificates import selectors, tasks

    insured, dependent = insured_and_dependent_72
    everyone = selectors.ex_officio_candidates(today=today)
    assert set(everyone) == {insured, dependent}
    services.batch_start(candidates=everyone.filter(pk=insured.pk), started_by=staff)

    proposal = services.propose_monthly_run(today=today)
    assert proposal.total == 1 and proposal.per_basis["cutoff"] == 1 and proposal.since_batch is not None
    assert tasks.propose_monthly_run() != proposal.pk  # the beat job makes the month's proposal the same way
    listed = client.get(reverse("admin:certificates_exofficiocandidate_changelist") + "?new=since_last_batch")
    assert [p.pk for p in listed.context["cl"].result_list] == [dependent.pk]
    from staff.dashboard import refresh_summary

    refresh_summary()
    html = client.get("/staff/").content.decode()
    assert "前回のバッチ以降に対象になった人 1 人" in html and "?new=since_last_batch" in html


def test_the_monthly_proposal_is_on_the_beat_schedule():
    from kenpo_portal.celery import app

    assert any(entry["task"] == "certificates.tasks.propose_monthly_run" for entry in app.conf.beat_schedule.values())
