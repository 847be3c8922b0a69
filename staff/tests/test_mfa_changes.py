"""Second factors: changing one needs the current one (issue 24, 5), a first login asks
for each thing once (issue 25), and a login's own MFA changes and reads are audited
(issue 24, 4)."""


import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.urls import reverse

from audit.models import AuditEntry
from staff.roles import CLERK
from staff.testing import PASSWORD, make_staff, totp_code

pytestmark = pytest.mark.django_db


def _full_login(client, user):
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code(user)})
    assert client.get("/admin/").status_code == 200


def _age_the_session(client, seconds: int = 3600):
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {**entry, "at": entry["at"] - seconds} for entry in session[AUTHENTICATION_METHODS_SESSION_KEY]]
    session.save()


@pytest.fixture
def clerk(client):
    user = make_staff(role=CLERK, email="c@kenpo.example.jp")
    _full_login(client, user)
    return user


def test_the_password_alone_cannot_turn_totp_off(client, clerk):
    _age_the_session(client)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})  # what the outside test did
    for name in ("mfa_deactivate_totp", "mfa_generate_recovery_codes", "mfa_view_recovery_codes", "mfa_add_webauthn"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_reauthenticate")), name
    client.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=clerk, type=Authenticator.Type.TOTP).exists()


# allauth sends its MFA signals on commit: these run with real transactions, as a server does.
@pytest.mark.django_db(transaction=True)
def test_the_current_code_opens_the_change_and_the_change_is_audited(client, clerk):
    _age_the_session(client)
    code = RecoveryCodes.activate(clerk).get_unused_codes()[0]  # the login's TOTP code may not be used twice
    client.post(reverse("mfa_reauthenticate"), {"code": code})
    assert client.get(reverse("mfa_deactivate_totp")).status_code == 200
    client.post(reverse("mfa_deactivate_totp"))
    assert not Authenticator.objects.filter(user=clerk, type=Authenticator.Type.TOTP).exists()
    assert AuditEntry.objects.filter(actor=clerk, action="change", summary="多要素認証：認証アプリを削除").exists()


@pytest.mark.django_db(transaction=True)
def test_reading_and_making_recovery_codes_is_audited(client, clerk):
    assert client.get(reverse("mfa_generate_recovery_codes")).status_code == 200
    client.post(reverse("mfa_generate_recovery_codes"))
    assert client.get(reverse("mfa_view_recovery_codes")).status_code == 200
    assert client.get(reverse("mfa_download_recovery_codes")).status_code == 200
    summaries = set(AuditEntry.objects.filter(actor=clerk).values_list("summary", flat=True))
    assert {"多要素認証：リカバリーコードを表示", "多要素認証：リカバリーコードをダウンロード"} <= summaries
    assert summaries & {"多要素認証：リカバリーコードを作り直し", "多要素認証：リカバリーコードを追加"}


@pytest.mark.django_db(transaction=True)
def test_a_first_staff_login_asks_for_the_password_once_and_one_code(client):
    user = make_staff(role=CLERK, email="new@kenpo.example.jp", with_totp=False)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    setup = client.get("/admin/")["Location"]
    page = client.get(setup)
    assert page.status_code == 200, page.get("Location")  # no second password
    user.totp_secret = page.context["form"].secret
    client.post(setup, {"code": totp_code(user)})
    assert client.get("/admin/").status_code == 200  # no second code right after enrolment
    assert AuditEntry.objects.filter(actor=user, summary="多要素認証：認証アプリを追加").exists()


def test_a_recovery_code_login_is_recorded_as_one(client):
    user = make_staff(role=CLERK, email="rc@kenpo.example.jp")
    codes = RecoveryCodes.activate(user)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": codes.get_unused_codes()[0]})
    assert client.get("/admin/").status_code == 200
    entry = AuditEntry.objects.filter(actor=user, action="login").latest("at")
    assert entry.summary == "ログイン（リカバリーコード）" and entry.details["second_factor"] == "recovery_codes"


def test_a_fresh_login_stays_fresh_only_for_allauths_window(client, clerk):
    assert client.get(reverse("mfa_view_recovery_codes")).status_code in (200, 404)  # just logged in with a code
    _age_the_session(client)
    assert client.get(reverse("mfa_view_recovery_codes")).status_code == 302
