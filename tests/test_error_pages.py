"""The error pages: the site's layout, Japanese and English, the society's contact,
nothing leaked, and the 500 page even when the database is gone."""

import pytest
from django.db.utils import OperationalError
from django.test import Client
from django.urls import reverse

from eligibility.models import Society
from kenpo_portal import errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def society(db):
    first = Society.objects.order_by("pk").first()
    if first is None:
        return Society.objects.create(insurer_number="06999999", name="テスト健康保険組合", address="東京都",
                                      phone="03-0000-1111")
    Society.objects.filter(pk=first.pk).update(name="テスト健康保険組合", phone="03-0000-1111")
    return first


def _page(response) -> str:
    page = response.content.decode()
    assert 'class="site-header"' in page and "portal.css" in page  # the site's layout
    assert 'lang="ja"' in page and 'lang="en"' in page
    return page


def test_a_404_names_the_society_and_echoes_nothing(client, society):
    response = client.get("/my/secret-1234-5678/")
    assert response.status_code == 404
    page = _page(response)
    assert "ページが見つかりません" in page and "Page not found" in page
    assert "テスト健康保険組合" in page and "03-0000-1111" in page
    assert "secret" not in page and "1234" not in page


def test_a_403_for_a_member_on_a_staff_page(client, alice, society):
    client.force_login(alice)
    response = client.get(reverse("staff:dashboard"))
    assert response.status_code == 403
    assert "このページは開けません" in _page(response)


def test_a_csrf_failure_explains_itself_without_the_reason(society):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("account_login"), {"login": "a@example.jp", "password": "x"})
    assert response.status_code == 403
    page = _page(response)
    assert "もう一度送信してください" in page and "send the form again" in page
    assert "CSRF" not in page and "token" not in page.lower()


@pytest.mark.urls("tests.crash_urls")
def test_a_500_shows_the_contact_and_not_the_exception(society):
    client = Client(raise_request_exception=False)
    response = client.get("/crash/")
    assert response.status_code == 500
    page = _page(response)
    assert "エラーが発生しました" in page and "Server error" in page and "テスト健康保険組合" in page
    assert "RuntimeError" not in page and "5678" not in page


def test_the_500_page_renders_without_a_database(monkeypatch, settings, rf):
    settings.KENPO_CONTACT_NAME = "設定の健康保険組合"
    settings.KENPO_CONTACT_PHONE = "0120-000-000"

    def gone(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(type(Society.objects), "order_by", gone)
    response = errors.server_error(rf.get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "設定の健康保険組合" in page and "0120-000-000" in page


def test_the_error_pages_are_wired():
    from kenpo_portal import urls

    assert urls.handler404 == "kenpo_portal.errors.page_not_found"
    assert urls.handler500 == "kenpo_portal.errors.server_error"
