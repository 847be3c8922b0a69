"""Staff see the employer route per 事業所 (R12): what is out, returned, overdue, applied for."""

from datetime import timedelta

import pytest
from django.urls import reverse

from certificates import services
from certificates.models import EligibilityCertificate, PacketItem, ReissueRequest
from eligibility.selectors import today
from staff.roles import CLERK, VIEWER
from staff.testing import login_with_mfa, make_staff

from .conftest import packet_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def route_a(employer_a, people_a, contact_a):
    """A's packet: the insured person handed over then left (回収 overdue), the child returned."""
    insured, child = people_a
    packet, _certificates = packet_for([insured, child])
    by_person = {i.certificate.person_id: i for i in packet.items.select_related("certificate")}
    services.packets.items_mark(packet=packet, item_ids=[by_person[insured.pk].pk], state="handed", by=None)
    services.packets.items_mark(packet=packet, item_ids=[by_person[child.pk].pk], state="returned",
                                return_reason="absent", by=None)
    insured.eligible_until = today()
    insured.save()
    services.certificates_void_ended_eligibility(today=today())
    cert = EligibilityCertificate.objects.get(person=insured)
    EligibilityCertificate.objects.filter(pk=cert.pk).update(voided_at=cert.voided_at - timedelta(days=6))
    return packet, by_person[child.pk]


def test_staff_see_each_employer_s_figures_and_its_details(client, employer_a, employer_b, route_a):
    login_with_mfa(client, make_staff(role=VIEWER, email="viewer@example.jp"))
    page = client.get(reverse("staff:employer_list"))
    assert page.status_code == 200
    figures = page.context["rows"]
    a = next(r for r in figures if r["employer"] == employer_a)
    assert (a["out"], a["returned"], a["overdue"], a["contacts"]) == (0, 1, 1, 1)
    detail = client.get(reverse("staff:employer_detail", args=[employer_a.pk])).content.decode()
    assert "青木 こども" in detail and "青木 一郎" in detail and "hr-a@example.jp" in detail


def test_a_clerk_reposts_a_returned_item_a_viewer_cannot(client, employer_a, route_a):
    _packet, returned = route_a
    login_with_mfa(client, make_staff(role=VIEWER, email="viewer@example.jp"))
    url = reverse("staff:employer_repost", args=[employer_a.pk])
    assert client.post(url, {"items": [returned.pk]}).status_code == 403
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@example.jp"))
    assert client.post(url, {"items": [returned.pk]}).status_code == 302
    assert PacketItem.objects.get(pk=returned.pk).state == "reposted"


def test_an_application_via_the_employer_is_reviewed_as_any_other(client, employer_a, people_a, contact_a):
    _insured, child = people_a
    req = services.request_submit_via_employer(person=child, employer=employer_a, by=contact_a, reason="no_card")
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@example.jp"))
    assert client.get(reverse("certificates:review_detail", args=[req.pk])).status_code == 200
    client.post(reverse("certificates:review_approve", args=[req.pk]))
    assert ReissueRequest.objects.get(pk=req.pk).status in ("approved", "issued")


def test_a_manager_invites_and_removes_a_contact_in_the_admin_a_clerk_cannot(client, employer_a,
                                                                              django_capture_on_commit_callbacks):
    from django.core import mail

    from eligibility.models import EmployerContact
    from staff.roles import MANAGER

    add = reverse("admin:eligibility_employercontact_add")
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@example.jp"))
    assert client.get(add).status_code == 403
    login_with_mfa(client, make_staff(role=MANAGER, email="boss@example.jp"))
    data = {"email": "new-hr@example.jp", "name": "新任 担当", "employers": [employer_a.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add, data)
    assert response.status_code == 302
    contact = EmployerContact.objects.get(user__email="new-hr@example.jp")
    assert list(contact.employers.all()) == [employer_a] and [m.to for m in mail.outbox] == [["new-hr@example.jp"]]
    assert "すでにあります" in client.post(add, data).content.decode()  # the same address twice
    client.post(reverse("admin:eligibility_employercontact_changelist"),
                {"action": "remove", "_selected_action": [contact.pk]})
    contact.refresh_from_db()
    assert contact.removed_at is not None and not contact.user.is_active
