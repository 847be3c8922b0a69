"""The member's re-issue request pages: the reason first, the details it needs, only for
their own household, the history and withdrawing, in both languages."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from certificates import services
from certificates.models import EligibilityCertificate, ReissueRequest
from staff.tests.certificates.test_certificate_pages import staff_user

pytestmark = pytest.mark.django_db


# --- the member's request ------------------------------------------------------------------


def test_it_asks_why_first_and_explains_a_refused_reason_kindly(client, alice, alice_person):
    client.force_login(alice)
    url = reverse("certificates:request_start", args=[alice_person.pk])
    assert "資格確認書が必要な理由" in client.get(url).content.decode()
    page = client.post(url, {"reason": "nursery"}).content.decode()
    assert "コピー" in page and "資格情報のお知らせ" in page
    page = client.post(url, {"reason": "just_in_case"}).content.decode()
    assert "両方持つことはできない" in page
    assert not ReissueRequest.objects.exists()


def test_an_accepted_reason_leads_to_the_form_with_the_details_it_needs(client, alice, alice_person,
                                                                        django_capture_on_commit_callbacks):
    client.force_login(alice)
    response = client.post(reverse("certificates:request_start", args=[alice_person.pk]), {"reason": "card_lost"})
    form_url = reverse("certificates:request_form", args=[alice_person.pk, "card_lost"])
    assert response.url == form_url
    page = client.post(form_url, {"noticed_on": ""}).content.decode()
    assert "紛失に気づいた日" in page and "日付を入力してください" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_url, {"noticed_on": "2026-11-20", "details": "駅で落としました"})
    req = ReissueRequest.objects.get()
    assert response.url == reverse("certificates:request_detail", args=[req.pk])
    assert (req.reason, req.noticed_on, req.requested_by) == ("card_lost", date(2026, 11, 20), alice)
    assert mail.outbox[0].to == ["alice@example.jp"]


def test_the_form_refuses_a_my_number_in_the_free_text(client, alice, alice_person):
    client.force_login(alice)
    url = reverse("certificates:request_form", args=[alice_person.pk, "needs_helper"])
    response = client.post(url, {"details": "私の番号は123456789018です"})
    assert response.status_code == 200 and not ReissueRequest.objects.exists()
    assert "マイナンバー" in response.content.decode()


def test_a_member_cannot_request_for_someone_outside_their_household(client, alice, charlie_person):
    client.force_login(alice)
    assert client.get(reverse("certificates:request_start", args=[charlie_person.pk])).status_code == 404
    assert client.post(reverse("certificates:request_form", args=[charlie_person.pk, "card_lost"]),
                       {"noticed_on": "2026-11-20"}).status_code == 404


def test_a_dependent_login_sees_only_their_own_requests(client, alice, alice_person, bob):
    req = services.request_submit(person=alice_person, requested_by=alice, reason="card_lost")
    client.force_login(bob)
    assert client.get(reverse("certificates:request_detail", args=[req.pk])).status_code == 404
    assert client.post(reverse("certificates:request_withdraw", args=[req.pk])).status_code == 404


def test_the_member_sees_the_history_and_can_withdraw_while_pending(client, alice, alice_person):
    req = services.request_submit(person=alice_person, requested_by=alice, reason="card_renewing")
    client.force_login(alice)
    url = reverse("certificates:request_detail", args=[req.pk])
    assert "申請を取り下げる" in client.get(url).content.decode()
    client.post(reverse("certificates:request_withdraw", args=[req.pk]))
    req.refresh_from_db()
    assert req.status == "withdrawn"
    page = client.get(url).content.decode()
    assert "申請を取り下げる" not in page and "取り下げ" in page


def test_the_member_sees_that_the_certificate_was_mailed_but_cannot_download_it(
        client, alice, alice_person, django_capture_on_commit_callbacks):
    req = services.request_submit(person=alice_person, requested_by=alice, reason="card_lost")
    with django_capture_on_commit_callbacks(execute=True):
        cert = services.request_approve(req=req, by=staff_user())
        services.daily_print_files_make(day=cert.issued_on)
    for to in ("printed", "mailed"):
        cert = services.certificate_transition(certificate=EligibilityCertificate.objects.get(pk=cert.pk), to=to)
    client.force_login(alice)
    page = client.get(reverse("certificates:request_detail", args=[req.pk])).content.decode()
    assert "発送しました" in page
    assert client.get(reverse("certificates:certificate_pdf", args=[cert.pk])).status_code in (302, 403)


@pytest.fixture
def _back_to_japanese():
    """LocaleMiddleware leaves the request's language active in this thread: reset it."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.mark.usefixtures("_back_to_japanese")
def test_the_request_pages_read_in_english_too(client, alice, alice_person, settings):
    client.force_login(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("certificates:request_start", args=[alice_person.pk])
    page = client.get(url).content.decode()
    assert "Why do you need an eligibility certificate?" in page and "My My Number" not in page
    page = client.post(url, {"reason": "school_trip"}).content.decode()
    assert "a copy of the notice of eligibility details" in page, page[page.index("<main"):page.index("</main>")]


@pytest.mark.parametrize(("day", "message"), [("2099-01-01", "未来の日付"), ("1999-01-01", "2016年1月より前"),
                                            ("9999-12-31", "2100-12-31"), ("0001-01-01", "1900-01-01")])
def test_a_request_date_that_cannot_be_is_refused_with_a_message(client, alice, alice_person, day, message):
    client.force_login(alice)
    response = client.post(reverse("certificates:request_form", args=[alice_person.pk, "card_lost"]),
                           {"noticed_on": day, "details": ""})
    assert response.status_code in (200, 400)
    assert message in response.content.decode()
