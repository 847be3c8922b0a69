"""A session left unused is logged out: sooner for staff (issue 24, 11)."""

import pytest
from django.conf import settings

from core.middleware import LAST_ACTIVITY_SESSION_KEY
from staff.roles import CLERK
from staff.testing import login_with_mfa, make_staff

pytestmark = pytest.mark.django_db


def _idle(client, minutes: int) -> None:
    session = client.session
    session[LAST_ACTIVITY_SESSION_KEY] -= minutes * 60
    session.save()


def test_the_staff_limit_is_shorter_than_the_members():
    assert settings.KENPO_STAFF_IDLE_TIMEOUT_MINUTES < settings.KENPO_IDLE_TIMEOUT_MINUTES <= 60


def test_a_member_idle_past_the_limit_is_logged_out(client, alice):
    client.force_login(alice)
    assert client.get("/my/").status_code == 200
    _idle(client, settings.KENPO_IDLE_TIMEOUT_MINUTES - 1)
    assert client.get("/my/").status_code == 200  # still inside: and the clock starts again
    _idle(client, settings.KENPO_IDLE_TIMEOUT_MINUTES + 1)
    response = client.get("/my/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not client.get("/my/").wsgi_request.user.is_authenticated


def test_a_staff_login_idle_past_the_staff_limit_is_logged_out(client):
    login_with_mfa(client, make_staff(role=CLERK, email="c@kenpo.example.jp"))
    assert client.get("/admin/").status_code == 200
    _idle(client, settings.KENPO_STAFF_IDLE_TIMEOUT_MINUTES + 1)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
