"""A route for everyone (issue #11): a person without a card who is not covered ex officio
applies with a reason that fits; one already covered is told when and how it arrives; the
nursery refusal offers only what that person can have; the e-mails speak one style."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from certificates.models import ReissueRequest
from eligibility import selectors
from tests.factories import CardFactsFactory, PersonFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 10)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(selectors, "today", lambda: TODAY)


@pytest.fixture
def child(household, alice_person):
    # Born and enrolled in 2025 (after R6's cutoff), no card, no certificate asked for: not ex officio.
    person = PersonFactory(household=household, branch_number="03", relationship="child", given_name="蓮",
                           birth_date=date(2025, 1, 20), eligible_from=date(2025, 1, 20))
    CardFactsFactory(person=person, has_card=False, registered=False, ecert_expires_on=None, card_expires_on=None)
    return person


@pytest.fixture
def grandmother(household, alice_person):
    # Enrolled before 2024-12-01 without a card: R6.1, sent ex officio.
    person = PersonFactory(household=household, branch_number="04", relationship="parent", given_name="和子",
                           birth_date=date(1956, 3, 3), eligible_from=date(2015, 4, 1))
    CardFactsFactory(person=person, has_card=False, registered=False, ecert_expires_on=None, card_expires_on=None)
    return person


def test_a_child_without_a_card_applies_because_they_have_none(client, alice, child,
                                                               django_capture_on_commit_callbacks):
    client.force_login(alice)
    page = client.get(reverse("eligibility:dashboard")).content.decode()
    assert reverse("certificates:request_start", args=[child.pk]) in page
    start = reverse("certificates:request_start", args=[child.pk])
    assert "マイナンバーカードを持っていない、または保険証として利用登録していない" in client.get(start).content.decode()
    response = client.post(start, {"reason": "no_card"})
    assert response.url == reverse("certificates:request_form", args=[child.pk, "no_card"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response.url, {"details": ""})
    assert ReissueRequest.objects.get(person=child).reason == "no_card"
    message = mail.outbox[0]
    assert message.subject.startswith("【けんぽポータル】") and "テスト健康保険組合" in message.body


def test_a_person_covered_ex_officio_is_told_so_instead_of_being_offered_a_request(client, alice, grandmother):
    client.force_login(alice)
    page = client.get(reverse("eligibility:dashboard")).content.decode()
    assert reverse("certificates:request_start", args=[grandmother.pk]) not in page
    assert "申請は不要です" in page
    page = client.get(reverse("certificates:request_start", args=[grandmother.pk])).content.decode()
    assert "申請は不要です" in page and "勤務先（事業所）経由" in page and "令和9年1月31日" in page


def test_the_nursery_refusal_offers_a_child_only_what_a_child_can_have(client, alice, child):
    client.force_login(alice)
    page = client.post(reverse("certificates:request_start", args=[child.pk]), {"reason": "nursery"}).content.decode()
    assert "資格情報のお知らせ" in page and reverse("notices:download", args=[child.pk]) in page
    assert "マイナポータルからダウンロードした" not in page  # no card: no マイナポータル
    assert "お持ちの資格確認書のコピー" not in page  # holds none


def test_someone_with_a_working_card_is_offered_the_portal_pdf_too(client, alice, alice_person):
    client.force_login(alice)
    page = client.post(reverse("certificates:request_start", args=[alice_person.pk]),
                       {"reason": "school_trip"}).content.decode()
    assert "マイナポータルからダウンロードした" in page


def test_a_request_e_mail_goes_out_in_the_language_the_member_uses(client, alice, child, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    from certificates import notifications

    monkeypatch.setattr(notifications, "languages_of", lambda ids: {alice.pk: "en"})
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("certificates:request_form", args=[child.pk, "no_card"]), {"details": ""})
    assert mail.outbox[0].subject.startswith("[Kenpo Portal] ")
