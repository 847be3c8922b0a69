"""Every response to a logged-in user says Cache-Control: no-store (shared computers, back button)."""

import pytest
from django.http import FileResponse, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from core.middleware import NoStoreForLoggedInMiddleware
from staff.roles import VIEWER
from staff.testing import login_with_mfa, make_staff

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "") and "public" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("name", ["eligibility:dashboard", "eligibility:calendar", "certificates:request_list",
                                  "audit:access_log"])
def test_member_pages_and_the_calendar_are_never_stored(client, alice, name):
    client.force_login(alice)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert _no_store(response)


def test_staff_pages_are_never_stored(client, db):
    login_with_mfa(client, make_staff(role=VIEWER, email="v@kenpo.example.jp"))
    for url in ("/admin/eligibility/person/", "/staff/"):
        assert _no_store(client.get(url)), url


def test_a_file_to_a_logged_in_user_is_never_stored_even_if_the_view_said_public(alice, tmp_path):
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4")

    def view(request):
        response = FileResponse(pdf.open("rb"), content_type="application/pdf")
        response["Cache-Control"] = "public, max-age=3600"
        return response

    request = RequestFactory().get("/certificates/staff/certificates/1/pdf/")
    request.user = alice
    response = NoStoreForLoggedInMiddleware(view)(request)
    assert _no_store(response)
    response.close()


def test_anonymous_pages_stay_cacheable(client, db):
    response = client.get("/")
    assert "no-store" not in response.get("Cache-Control", "")
    assert isinstance(response, HttpResponse)
