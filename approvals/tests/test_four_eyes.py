"""Four eyes (決裁): a large import, a void, a large batch and a paper application each need a
second staff member; the one who entered the act cannot approve it; both steps are audited."""

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from approvals.models import Approval
from approvals.services import ApprovalRefused, approval_decide
from audit.models import AuditEntry
from certificates import services as certificates
from certificates.models import Basis, EligibilityCertificate, IssueBatch
from certificates.selectors import ex_officio_candidates
from certificates.tests.conftest import ACTIVE, NO_CARD, TODAY, person
from imports.services import import_confirm, import_preview
from imports.tests.helpers import HANAKO, TARO, roster
from staff.roles import CLERK, VIEWER
from staff.testing import login_with_mfa, make_staff
from tests.factories import EmployerFactory, HouseholdFactory, SocietyFactory

pytestmark = pytest.mark.django_db
APPROVALS = "/staff/approvals/"


@pytest.fixture
def alice(client):
    """The clerk who enters the act."""
    user = make_staff(role=CLERK, email="alice@kenpo.example.jp")
    login_with_mfa(client, user)
    return user


@pytest.fixture
def bob_client():
    """A second clerk, in a browser of her own."""
    bob = make_staff(role=CLERK, email="bob@kenpo.example.jp")
    other = Client()
    login_with_mfa(other, bob)
    other.user = bob
    return other


def decide(client, approval: Approval, decision: str):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("staff:approval_decide", args=[approval.pk]), {"decision": decision, "note": "確認"})


def test_a_large_import_waits_for_a_second_clerk(client, alice, bob_client, settings):
    settings.KENPO_IMPORT_LARGE_CHANGE_PERCENT = 10
    society = SocietyFactory()
    EmployerFactory(society=society, code="E0001")
    import_confirm(run=import_preview(kind="roster", society=society, data=roster(HANAKO, TARO), user=alice),
                   user=alice)
    run = import_preview(kind="roster", society=society, data=roster(HANAKO.replace("ハナコ", "ハナ"), TARO), user=alice)

    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("staff:imports:confirm", args=[run.pk]), {"large_change": "1"})
    run.refresh_from_db()
    approval = Approval.objects.get()
    assert (run.status, approval.kind, approval.target_id, approval.requested_by) == ("awaiting", "import", run.pk,
                                                                                      alice)
    assert "50.0%" in approval.summary
    # The clerk who confirmed it may not approve it.
    assert "ご自身の依頼は決裁できません。" in client.get(APPROVALS).content.decode()
    decide(client, approval, "approve")
    run.refresh_from_db()
    assert run.status == "awaiting"

    page = bob_client.get(APPROVALS).content.decode()
    assert approval.summary in page and reverse("staff:imports:detail", args=[run.pk]) in page
    decide(bob_client, approval, "approve")

    run.refresh_from_db()
    approval.refresh_from_db()
    assert (run.status, run.confirmed_by) == ("confirmed", alice)
    assert (approval.status, approval.decided_by, approval.note) == ("approved", bob_client.user, "確認")
    entries = AuditEntry.objects.filter(object_type="approvals.Approval").order_by("pk")
    assert [(e.actor, e.summary.split(":")[0]) for e in entries] == [(alice, "決裁を依頼"), (bob_client.user, "決裁を承認")]


def test_an_import_sent_back_waits_for_confirmation_again(alice, bob_client, settings):
    settings.KENPO_IMPORT_LARGE_CHANGE_PERCENT = 10
    society = SocietyFactory()
    EmployerFactory(society=society, code="E0001")
    import_confirm(run=import_preview(kind="roster", society=society, data=roster(HANAKO), user=alice), user=alice)
    run = import_preview(kind="roster", society=society, data=roster(HANAKO.replace("ハナコ", "ハナ")), user=alice)
    run = import_confirm(run=run, user=alice, large_change_seen=True)
    assert run.status == "awaiting"

    decide(bob_client, Approval.objects.get(), "reject")

    run.refresh_from_db()
    assert (run.status, run.confirmed_by) == ("preview", None)
    assert Approval.objects.get().status == "rejected"


@pytest.fixture
def certificate(db):
    holder = person(household=HouseholdFactory(), card=NO_CARD)
    return certificates.certificate_issue(person=holder, basis=Basis.CUTOFF, issued_by=None, today=TODAY)


def test_a_void_stays_valid_until_a_second_clerk_approves_it(client, alice, bob_client, certificate):
    client.post(reverse("certificates:certificate_void") + f"?ids={certificate.pk}", {"reason": "lost", "confirm": "on"})
    certificate.refresh_from_db()
    approval = Approval.objects.get()
    assert certificate.status != "void" and approval.payload == {"ids": [certificate.pk], "reason": "lost"}
    assert certificate.serial in approval.summary
    link = reverse("admin:certificates_eligibilitycertificate_change", args=[certificate.pk])
    assert link in bob_client.get(APPROVALS).content.decode() and bob_client.get(link).status_code == 200

    decide(bob_client, approval, "approve")

    certificate.refresh_from_db()
    assert (certificate.status, certificate.void_reason, certificate.voided_by) == ("void", "lost", bob_client.user)


def test_a_batch_over_the_limit_waits_and_one_sent_back_issues_nobody(alice, bob_client, settings):
    settings.KENPO_FOUR_EYES_BATCH_OVER = 1
    for _ in range(2):
        person(household=HouseholdFactory(), card=NO_CARD)
    with TestCase.captureOnCommitCallbacks(execute=True):
        batch = certificates.batch_start(candidates=ex_officio_candidates(today=TODAY), started_by=alice)
    assert (batch.status, batch.total) == ("awaiting", 2)
    assert not EligibilityCertificate.objects.exists()
    assert "決裁待ち" in bob_client.get(reverse("certificates:batch_detail", args=[batch.pk])).content.decode()

    decide(bob_client, Approval.objects.get(kind="batch"), "reject")

    batch.refresh_from_db()
    assert batch.status == IssueBatch.Status.CANCELLED and not EligibilityCertificate.objects.exists()
    # Nothing resumes a cancelled batch.
    assert certificates.batches_resume_stalled(now=batch.started_at.replace(year=2100)) == []


def test_an_approved_batch_starts(alice, bob_client, settings):
    settings.KENPO_FOUR_EYES_BATCH_OVER = 1
    for _ in range(2):
        person(household=HouseholdFactory(), card=NO_CARD)
    batch = certificates.batch_start(candidates=ex_officio_candidates(today=TODAY), started_by=alice)

    decide(bob_client, Approval.objects.get(kind="batch"), "approve")

    batch.refresh_from_db()
    assert batch.status != "awaiting" and EligibilityCertificate.objects.filter(batch=batch).count() == 2


def test_the_clerk_who_entered_a_paper_application_cannot_approve_it(client, alice, bob_client):
    holder = person(household=HouseholdFactory(), card=ACTIVE)  # a マイナ保険証 holder whose card is lost
    req = certificates.request_enter_paper(person=holder, reason="card_lost", received_on=TODAY, by=alice)

    with pytest.raises(certificates.CertificateRefused, match="入力した職員は決裁できません"):
        certificates.request_approve(req=req, by=alice)
    page = client.get(reverse("certificates:review_detail", args=[req.pk])).content.decode()
    assert "承認は別の職員が行います" in page
    client.post(reverse("certificates:review_approve", args=[req.pk]))
    req.refresh_from_db()
    assert req.status == "submitted"
    certificate = certificates.request_approve(req=req, by=bob_client.user)
    assert certificate.reissue_request == req


def test_the_one_who_asked_never_decides_and_a_decision_is_made_once(alice, bob_client, certificate):
    approval = certificates.certificates_void_or_ask(
        queryset=EligibilityCertificate.objects.filter(pk=certificate.pk), reason="lost", by=alice)
    with pytest.raises(ApprovalRefused):
        approval_decide(approval=approval, by=alice, approve=True)
    approval_decide(approval=approval, by=bob_client.user, approve=False)
    with pytest.raises(ApprovalRefused, match="すでに済んでいます"):
        approval_decide(approval=approval, by=bob_client.user, approve=True)


def test_a_viewer_sees_no_approval_to_decide(client, alice, certificate):
    certificates.certificates_void_or_ask(queryset=EligibilityCertificate.objects.filter(pk=certificate.pk),
                                          reason="lost", by=alice)
    viewer = make_staff(role=VIEWER, email="viewer@kenpo.example.jp")
    login_with_mfa(client, viewer)
    assert "決裁を待っている依頼はありません。" in client.get(APPROVALS).content.decode()
    response = client.post(reverse("staff:approval_decide", args=[Approval.objects.get().pk]), {"decision": "approve"})
    assert response.status_code == 404


def test_with_four_eyes_off_nothing_waits(alice, certificate, settings):
    settings.KENPO_FOUR_EYES = False
    assert certificates.certificates_void_or_ask(
        queryset=EligibilityCertificate.objects.filter(pk=certificate.pk), reason="lost", by=alice) is None
    certificate.refresh_from_db()
    assert certificate.status == "void" and not Approval.objects.exists()


def test_a_note_holding_a_my_number_is_refused_and_nothing_is_decided(alice, bob_client, certificate):
    approval = certificates.certificates_void_or_ask(
        queryset=EligibilityCertificate.objects.filter(pk=certificate.pk), reason="lost", by=alice)

    response = bob_client.post(reverse("staff:approval_decide", args=[approval.pk]),
                               {"decision": "approve", "note": "番号 1234 5678 9018"}, follow=True)

    approval.refresh_from_db()
    assert approval.status == "pending"
    assert "1234 5678 9018" not in response.content.decode() and "個人番号" in response.content.decode()
