"""Every admin action declares who may run it (``permissions=``), and 閲覧 runs none (issue 24, 2)."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEntry
from notices.models import NoticeRecord
from staff.roles import CLERK, VIEWER
from staff.testing import login_with_mfa, make_staff

pytestmark = pytest.mark.django_db


def _every_action():
    for model, model_admin in admin.site._registry.items():
        for func, name, _description in model_admin._get_base_actions():
            yield f"{model._meta.label}.{name}", model_admin, func


def test_every_action_of_every_admin_declares_its_permissions():
    labels = []
    for label, _model_admin, func in _every_action():
        assert getattr(func, "allowed_permissions", None), f"{label} has no permissions="
        labels.append(label)
    assert "notices.NoticeRecord.print_paper" in labels and "certificates.ExOfficioCandidate.issue_selected" in labels


def test_a_viewer_is_offered_no_action_anywhere():
    request = RequestFactory().get("/admin/")
    request.user = make_staff(role=VIEWER, email="viewer@kenpo.example.jp")
    offered = {f"{model._meta.label}.{name}" for model, model_admin in admin.site._registry.items()
               for name in model_admin.get_actions(request)}
    assert offered == set()


@pytest.fixture
def waiting(alice_person):
    return NoticeRecord.objects.create(person=alice_person, paper_requested=True)


def test_a_viewer_cannot_print_paper_notices_even_across_the_whole_list(client, waiting):
    login_with_mfa(client, make_staff(role=VIEWER, email="viewer@kenpo.example.jp"))
    url = reverse("admin:notices_noticerecord_changelist")
    response = client.post(url, {"action": "print_paper", "select_across": "1", "index": "0",
                                 "_selected_action": [waiting.pk]})
    assert response.get("Content-Type") != "application/pdf"
    waiting.refresh_from_db()
    assert waiting.paper_printed_at is None
    assert not AuditEntry.objects.filter(action="export").exists()


def test_printing_records_each_member_and_skips_those_who_did_not_ask(client, waiting, bob_person):
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@kenpo.example.jp"))
    not_asked = NoticeRecord.objects.create(person=bob_person, paper_requested=False)
    url = reverse("admin:notices_noticerecord_changelist")
    response = client.post(url, {"action": "print_paper", "select_across": "1", "index": "0",
                                 "_selected_action": [waiting.pk]})
    assert response["Content-Type"] == "application/pdf"
    not_asked.refresh_from_db()
    assert not_asked.paper_printed_at is None
    entry = AuditEntry.objects.get(object_type="eligibility.Person", object_id=str(waiting.person_id))
    assert entry.household_id == waiting.person.household_id and entry.action == "export"
