"""Staff reads of personal data that had no audit entry (issue 24, 4)."""

from datetime import date

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from certificates import services
from certificates.models import Basis
from notices.models import NoticeRecord
from staff.roles import MANAGER
from staff.testing import login_with_mfa, make_staff

pytestmark = pytest.mark.django_db


def _views(user) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(actor=user, action="view"))


def test_the_notices_list_and_detail_are_audited(client, clerk, alice_person):
    record = NoticeRecord.objects.create(person=alice_person, paper_requested=True)
    client.get(reverse("admin:notices_noticerecord_changelist"))
    client.get(reverse("admin:notices_noticerecord_change", args=[record.pk]))
    assert len(_views(clerk)) == 2


def test_a_batch_page_is_audited_once_not_at_each_refresh(client, clerk, insured_and_dependent_72,
                                                          django_capture_on_commit_callbacks):
    from certificates.selectors import ex_officio_candidates

    with django_capture_on_commit_callbacks():
        batch = services.batch_start(candidates=ex_officio_candidates(today=date(2026, 11, 25)), started_by=clerk)
    url = reverse("certificates:batch_detail", args=[batch.pk])
    client.get(url)
    client.get(url + "?refreshed=1")
    assert [e.object_id for e in _views(clerk)] == [str(batch.pk)]


def test_the_void_confirmation_page_is_audited_per_person(client, clerk, insured_and_dependent_72):
    person = insured_and_dependent_72[0]
    certificate = services.certificate_issue(person=person, basis=Basis.CUTOFF, issued_by=None)
    client.get(reverse("certificates:certificate_void") + f"?ids={certificate.pk}")
    entry = AuditEntry.objects.get(actor=clerk, action="view")
    assert entry.object_id == str(person.pk) and entry.household_id == person.household_id


def test_the_paper_application_form_is_audited(client, clerk, insured_and_dependent_72):
    person = insured_and_dependent_72[0]
    client.get(reverse("certificates:paper_application", args=[person.pk]))
    assert [e.object_id for e in _views(clerk)] == [str(person.pk)]


def test_a_manager_reading_auditlog_history_is_audited(client):
    manager = make_staff(role=MANAGER, email="m@kenpo.example.jp")
    login_with_mfa(client, manager)
    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 200
    assert _views(manager)
