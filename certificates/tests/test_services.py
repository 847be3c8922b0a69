from datetime import date

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from pypdf import PdfReader

from certificates import pdf, services
from certificates.models import (
    Basis,
    BatchItem,
    EligibilityCertificate,
    IllegalTransition,
    Packet,
    PrintFile,
    ReissueRequest,
)
from certificates.selectors import ex_officio_candidates
from tests.factories import UserFactory

from .conftest import NO_CARD, person

pytestmark = pytest.mark.django_db
Cert = EligibilityCertificate


@pytest.fixture
def staff():
    return UserFactory(username="tanaka", is_staff=True)


def test_it_issues_with_the_r8_validity_and_a_snapshot(insured_and_dependent_72, today):
    _insured, dependent = insured_and_dependent_72
    cert = services.certificate_issue(person=dependent, basis=Basis.CUTOFF, issued_by=None, today=today)
    # 75th birthday 2029-07-15 comes before the 5-year anniversary.
    assert cert.valid_until == date(2029, 7, 14)
    assert cert.snapshot["insured_name"] == "高橋 健一"
    assert cert.snapshot["copay_ratio"] == "2割"
    assert cert.snapshot["copay_from"] == "2024-08-01"
    assert cert.status == Cert.Status.QUEUED and cert.delivery_route == "employer"


def test_it_ends_validity_the_day_before_the_anniversary(insured_and_dependent_72, today, settings):
    settings.KENPO_CERTIFICATE_VALID_YEARS = 3
    cert = services.certificate_issue(person=insured_and_dependent_72[0], basis=Basis.CUTOFF, issued_by=None,
                                      today=today)
    assert cert.valid_until == date(2029, 11, 24)


def test_issuing_a_replacement_voids_the_old_one_in_the_same_transaction(insured_and_dependent_72, staff):
    insured = insured_and_dependent_72[0]
    old = services.certificate_issue(person=insured, basis=Basis.CUTOFF, issued_by=staff)
    new = services.certificate_issue(person=insured, basis=Basis.APPLICATION, issued_by=staff)
    old.refresh_from_db()
    assert old.status == "void" and old.void_reason == "replaced" and old.voided_by == staff
    assert new.serial != old.serial
    assert Cert.objects.filter(person=insured).exclude(status="void").count() == 1


def test_the_database_refuses_a_second_valid_certificate(insured_and_dependent_72):
    insured = insured_and_dependent_72[0]
    cert = services.certificate_issue(person=insured, basis=Basis.CUTOFF, issued_by=None)
    cert.pk, cert.serial = None, "dup-1"
    with pytest.raises(IntegrityError), transaction.atomic():
        cert.save()


@pytest.mark.parametrize("path", [
    ["rendered", "printed", "mailed", "void"],
    ["void"],
    ["rendered", "void"],
])
def test_it_moves_along_the_allowed_transitions(insured_and_dependent_72, staff, path):
    cert = services.certificate_issue(person=insured_and_dependent_72[0], basis=Basis.CUTOFF, issued_by=None)
    for status in path:
        cert = services.certificate_transition(certificate=cert, to=status, by=staff)
    assert cert.status == path[-1]
    if "mailed" in path:
        assert cert.mailed_by == staff and cert.printed_at and cert.rendered_at


@pytest.mark.parametrize("path", [
    ["printed"], ["mailed"], ["rendered", "mailed"], ["rendered", "queued"], ["void", "rendered"],
    ["rendered", "printed", "mailed", "printed"],
])
def test_it_refuses_illegal_transitions(insured_and_dependent_72, path):
    cert = services.certificate_issue(person=insured_and_dependent_72[0], basis=Basis.CUTOFF, issued_by=None)
    with pytest.raises(IllegalTransition):
        for status in path:
            cert = services.certificate_transition(certificate=cert, to=status)


def test_it_refuses_a_move_someone_else_made_first(insured_and_dependent_72):
    cert = services.certificate_issue(person=insured_and_dependent_72[0], basis=Basis.CUTOFF, issued_by=None)
    stale = Cert.objects.get(pk=cert.pk)
    services.certificate_transition(certificate=cert, to="void")
    with pytest.raises(IllegalTransition):
        services.certificate_transition(certificate=stale, to="rendered")


def test_a_batch_issues_each_candidate_once_even_when_a_chunk_runs_twice(insured_and_dependent_72, today,
                                                                         staff, django_capture_on_commit_callbacks):
    for i in range(3):
        person(given_name=f"候補{i}", card=NO_CARD)
    with django_capture_on_commit_callbacks():  # the worker's part is run by hand below
        batch = services.batch_start(candidates=ex_officio_candidates(today=today), started_by=staff)
    assert batch.total == 5
    (chunk,) = services.batch_chunks(batch_id=batch.pk)
    with django_capture_on_commit_callbacks():
        assert services.batch_process_chunk(batch_id=batch.pk, item_ids=chunk, today=today) == 5
        assert services.batch_process_chunk(batch_id=batch.pk, item_ids=chunk, today=today) == 0
    assert Cert.objects.filter(batch=batch, status="queued").count() == 5
    batch.refresh_from_db()
    assert (batch.rendered_count, batch.status) == (0, "assembling")
    employers = Cert.objects.filter(batch=batch).values("employer").distinct().count()
    assert employers > 1
    with django_capture_on_commit_callbacks(execute=True):  # one render task per file
        assert services.batch_assemble_print_files(batch_id=batch.pk) == employers  # one file per 事業所
        assert services.batch_assemble_print_files(batch_id=batch.pk) == 0  # nothing planned twice
    batch.refresh_from_db()
    files = list(batch.print_files.all())
    assert all(len(f.plan) == 1 for f in files)  # never two employers in one file
    assert batch.status == "done" and sum(f.pages for f in files) == 5 + employers  # a cover sheet each
    assert (batch.rendered_count, batch.remaining) == (5, 0)
    assert Cert.objects.filter(batch=batch, status="rendered", print_file__in=files).count() == 5


def test_a_batch_skips_someone_who_got_a_certificate_meanwhile(insured_and_dependent_72, today,
                                                               django_capture_on_commit_callbacks):
    _insured, dependent = insured_and_dependent_72
    with django_capture_on_commit_callbacks():
        batch = services.batch_start(candidates=ex_officio_candidates(today=today), started_by=None)
    services.certificate_issue(person=dependent, basis=Basis.APPLICATION, issued_by=None, today=today)
    with django_capture_on_commit_callbacks():
        services.batch_process_chunk(batch_id=batch.pk, item_ids=services.batch_chunks(batch_id=batch.pk)[0],
                                     today=today)
    assert BatchItem.objects.get(batch=batch, person=dependent).state == "skipped"
    assert Cert.objects.filter(person=dependent).exclude(status="void").count() == 1


def _failing_for(name: str, monkeypatch):
    """Make every render that holds ``name``'s sheet fail, as a sheet with bad data would."""
    real_pages, real_single = pdf.render_pages, pdf.render_certificates

    def pages(items):
        if any(i.get("name") == name for i in items):
            raise OSError("bad sheet")
        return real_pages(items)

    def single(snapshots):
        if any(s.get("name") == name for s in snapshots):
            raise OSError("bad sheet")
        return real_single(snapshots)

    monkeypatch.setattr(pdf, "render_pages", pages)
    monkeypatch.setattr(pdf, "render_certificates", single)
    return real_pages, real_single


def test_a_bad_sheet_is_left_out_listed_with_its_reason_and_retried(insured_and_dependent_72, today, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    insured, dependent = insured_and_dependent_72
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.batch_start(candidates=ex_officio_candidates(today=today), started_by=None)
        real_pages, real_single = _failing_for(dependent.name_for_print, monkeypatch)
    failed = BatchItem.objects.get(batch=batch, state="failed")
    assert failed.person == dependent and failed.error == "OSError: bad sheet"
    assert BatchItem.objects.get(batch=batch, person=insured).state == "rendered"  # the rest is printed
    (first,) = batch.print_files.all()
    assert first.pages == 2 and first.certificate_count == 1  # a cover and the insured person's sheet
    assert Cert.objects.get(batch=batch, person=dependent).render_error == "OSError: bad sheet"
    monkeypatch.setattr(pdf, "render_pages", real_pages)
    monkeypatch.setattr(pdf, "render_certificates", real_single)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.batch_retry_failed(batch=batch, by=None) == 1
    batch.refresh_from_db()
    assert batch.status == "done" and batch.print_files.count() == 2
    assert Cert.objects.filter(batch=batch, status="rendered").count() == 2
    assert Cert.objects.filter(batch=batch).count() == 2  # the retry rendered the same certificates


def test_a_failed_print_file_shows_its_error_and_renders_when_tried_again(insured_and_dependent_72, today,
                                                                          monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        batch = services.batch_start(candidates=ex_officio_candidates(today=today), started_by=None)
    with django_capture_on_commit_callbacks():
        services.batch_process_chunk(batch_id=batch.pk, item_ids=services.batch_chunks(batch_id=batch.pk)[0],
                                     today=today)
        services.batch_assemble_print_files(batch_id=batch.pk)
    (print_file,) = batch.print_files.all()
    real = pdf.render_pages
    monkeypatch.setattr(pdf, "render_pages", lambda items: (_ for _ in ()).throw(OSError("disk full")))
    monkeypatch.setattr(pdf, "render_certificates", lambda items: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        services.print_file_assemble(print_file_id=print_file.pk)
    print_file.refresh_from_db()
    assert (print_file.error, print_file.attempts, print_file.rendered_at) == ("OSError: disk full", 1, None)
    monkeypatch.setattr(pdf, "render_pages", real)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.print_file_assemble(print_file_id=print_file.pk) == 3
    print_file.refresh_from_db()
    assert (print_file.error, print_file.attempts) == ("", 2)
    assert BatchItem.objects.filter(batch=batch, state="rendered").count() == 2


def test_print_files_are_split_at_the_page_limit_and_ordered_by_employer(today, settings,
                                                                         django_capture_on_commit_callbacks):
    from tests.factories import EmployerFactory, HouseholdFactory

    settings.KENPO_PRINT_FILE_MAX_PAGES = 4
    for code in ("P0002", "P0001"):
        employer = EmployerFactory(code=code, name=f"事業所{code}")
        for i in range(3):
            person(household=HouseholdFactory(employer=employer, society=employer.society), card=NO_CARD,
                   given_name=f"{code}-{i}")
    voluntary = HouseholdFactory(employer=employer, society=employer.society, voluntary_continuation=True,
                                 postal_code="105-0011", address="東京都港区芝公園4-2-8")
    person(household=voluntary, card=NO_CARD, given_name="任意継続")
    with django_capture_on_commit_callbacks():
        batch = services.batch_start(candidates=ex_officio_candidates(today=today), started_by=None)
        services.batch_process_chunk(batch_id=batch.pk, item_ids=services.batch_chunks(batch_id=batch.pk)[0],
                                     today=today)
    with django_capture_on_commit_callbacks(execute=True):
        services.batch_assemble_print_files(batch_id=batch.pk)
    files = list(batch.print_files.all())
    assert [f.pages for f in files] == [4, 4, 2]
    assert [f.description for f in files] == ["事業所P0001", "事業所P0002", "本人あて直接郵送分（任意継続など）"]
    text = "".join(p.extract_text() for p in PdfReader(files[0].pdf.path).pages[:2]).replace(" ", "")
    assert text.index("事業所P0001御中") < text.index("P0001-0") < text.index("P0001-1")
    # Each employer's file is its packet (R12); the direct-post group has none.
    assert sorted(Packet.objects.values_list("employer__code", flat=True)) == ["P0001", "P0002"]


def test_a_stalled_batch_is_resumed_without_issuing_twice(insured_and_dependent_72, today, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from certificates import tasks

    with django_capture_on_commit_callbacks():
        batch = services.batch_start(candidates=ex_officio_candidates(today=today), started_by=None)
    # A worker claimed the chunk and died before rendering.
    BatchItem.objects.filter(batch=batch).update(claim_token="dead", claimed_until=timezone.now() + timedelta(minutes=16))
    queued = []
    monkeypatch.setattr(tasks.process_chunk, "delay", lambda *a: queued.append(a))
    assert services.batches_resume_stalled() == []  # recent progress: not stalled
    later = timezone.now() + timedelta(minutes=20)
    assert services.batches_resume_stalled(now=later) == [batch.pk]
    with django_capture_on_commit_callbacks():
        for batch_id, chunk in queued:
            services.batch_process_chunk(batch_id=batch_id, item_ids=chunk, today=today)
    assert Cert.objects.filter(batch=batch).count() == 2
    assert BatchItem.objects.filter(batch=batch, state="issued").count() == 2


def test_approving_a_request_issues_a_certificate_and_mails_the_member(alice, alice_person, staff,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        req = services.request_submit(person=alice_person, requested_by=alice, reason="card_lost",
                                      noticed_on=date(2026, 11, 20))
    with django_capture_on_commit_callbacks(execute=True):
        cert = services.request_approve(req=req, by=staff)
    req.refresh_from_db()
    assert req.status == "approved" and cert.status == "queued" and cert.basis == "application"
    with django_capture_on_commit_callbacks(execute=True):  # the day's print file
        assert services.daily_print_files_make(day=cert.issued_on) == 1
    req.refresh_from_db()
    cert.refresh_from_db()
    assert req.status == "issued" and cert.status == "rendered" and cert.print_file.day == cert.issued_on
    assert [e.status for e in req.events.all()] == ["submitted", "approved", "issued"]
    assert len(mail.outbox) == 3
    for message in mail.outbox:
        assert "1234" not in message.body and "5678" not in message.body  # never 記号・番号
        assert message.to == ["alice@example.jp"]


def test_a_member_can_withdraw_only_while_pending(alice, alice_person, staff):
    req = services.request_submit(person=alice_person, requested_by=alice, reason="card_lost")
    services.request_reject(req=req, by=staff, reject_reason="has_usable_card", note="")
    with pytest.raises(IllegalTransition):
        services.request_withdraw(req=req, by=alice)
    req2 = services.request_submit(person=alice_person, requested_by=alice, reason="card_renewing")
    services.request_withdraw(req=req2, by=alice)
    assert ReissueRequest.objects.get(pk=req2.pk).status == "withdrawn"


def test_it_refuses_a_second_open_request_for_a_person(alice, alice_person):
    services.request_submit(person=alice_person, requested_by=alice, reason="card_lost")
    with pytest.raises(services.RequestRefused):
        services.request_submit(person=alice_person, requested_by=alice, reason="card_lost")


def test_request_free_text_refuses_a_my_number(alice_person):
    from django.core.exceptions import ValidationError

    req = ReissueRequest(person=alice_person, reason="card_lost", details="番号は 1234 5678 9018 です")
    with pytest.raises(ValidationError):
        req.full_clean()


def test_certificates_of_people_who_left_are_voided(insured_and_dependent_72, today):
    insured, dependent = insured_and_dependent_72
    kept = services.certificate_issue(person=insured, basis=Basis.CUTOFF, issued_by=None, today=today)
    ended = services.certificate_issue(person=dependent, basis=Basis.CUTOFF, issued_by=None, today=today)
    dependent.eligible_until = today
    dependent.save()
    assert services.certificates_void_ended_eligibility(today=today) == 1
    ended.refresh_from_db()
    kept.refresh_from_db()
    assert (ended.status, ended.void_reason, kept.status) == ("void", "eligibility_ended", "queued")


def test_a_lost_render_of_the_days_print_file_is_queued_again(alice, alice_person, staff, monkeypatch,
                                                                django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from certificates import tasks

    req = services.request_submit(person=alice_person, requested_by=alice, reason="card_lost")
    cert = services.request_approve(req=req, by=staff)
    with django_capture_on_commit_callbacks():  # the render message is lost
        services.daily_print_files_make(day=cert.issued_on)
    (print_file,) = PrintFile.objects.filter(batch__isnull=True)
    queued = []
    monkeypatch.setattr(tasks.assemble_print_file, "delay", queued.append)
    services.batches_resume_stalled()
    assert queued == []
    services.batches_resume_stalled(now=timezone.now() + timedelta(minutes=20))
    assert queued == [print_file.pk]


def test_an_unfinished_print_file_is_merged_again_on_resume(insured_and_dependent_72, today, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from certificates import tasks

    with django_capture_on_commit_callbacks():
        batch = services.batch_start(candidates=ex_officio_candidates(today=today), started_by=None)
    with django_capture_on_commit_callbacks():  # the merge message is lost
        services.batch_process_chunk(batch_id=batch.pk, item_ids=[i.pk for i in batch.items.all()], today=today)
    with django_capture_on_commit_callbacks():
        services.batch_assemble_print_files(batch_id=batch.pk)
    (print_file,) = batch.print_files.all()
    assert not print_file.pdf
    queued = []
    monkeypatch.setattr(tasks.assemble_print_file, "delay", queued.append)
    services.batches_resume_stalled(now=timezone.now() + timedelta(minutes=20))
    assert queued == [print_file.pk]
    assert services.print_file_assemble(print_file_id=print_file.pk) == 3  # a cover and two sheets
    batch.refresh_from_db()
    assert batch.status == "done"


def test_certificates_of_people_who_turned_75_are_voided(insured_and_dependent_72):
    from datetime import date

    _insured, dependent = insured_and_dependent_72  # the dependent was born 1954-07-15
    cert = services.certificate_issue(person=dependent, basis=Basis.CUTOFF, issued_by=None, today=date(2026, 11, 25))

    assert services.certificates_void_ended_eligibility(today=date(2029, 7, 14)) == 0
    assert services.certificates_void_ended_eligibility(today=date(2029, 7, 15)) == 1
    cert.refresh_from_db()
    assert (cert.status, cert.void_reason) == ("void", "eligibility_ended")
