"""Day one: ``manage.py setup_society`` makes the society, its employers and the first
管理者, whose first login goes straight to setting up MFA (no e-mail needed)."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from eligibility.models import Employer, Society
from staff.roles import MANAGER, role_of

pytestmark = pytest.mark.django_db

PASSWORD = "day-One-staff-2026"
FLAGS = ["--no-input", "--insurer-number", "06123456", "--name", "テスト健康保険組合", "--address",
         "東京都千代田区丸の内1-1-1", "--phone", "03-1234-5678", "--employer", "E0001=テスト株式会社",
         "--admin-email", "It@Kenpo.example.jp"]


def setup_society(*args, password=PASSWORD, monkeypatch=None):
    if monkeypatch is not None:
        monkeypatch.setenv("KENPO_ADMIN_PASSWORD", password)
    out = io.StringIO()
    call_command("setup_society", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_flags_make_the_society_the_employer_and_a_verified_manager(client, monkeypatch):
    out = setup_society(*FLAGS, monkeypatch=monkeypatch)
    society = Society.objects.get()
    assert (society.insurer_number, society.name, society.phone, society.hours) == (
        "06123456", "テスト健康保険組合", "03-1234-5678", "平日 9:00〜17:00")
    assert list(Employer.objects.values_list("society", "code", "name")) == [(society.pk, "E0001", "テスト株式会社")]
    admin = get_user_model().objects.get(email="it@kenpo.example.jp")
    assert role_of(admin) == MANAGER and not admin.is_superuser
    assert admin.emailaddress_set.get().verified
    assert "it@kenpo.example.jp" in out
    # The first login asks for no e-mail confirmation: it goes on to setting up MFA.
    response = client.post(reverse("account_login"), {"login": "it@kenpo.example.jp", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/")["Location"].startswith(reverse("mfa_activate_totp"))


def test_running_it_again_updates_the_details_and_leaves_the_manager_alone(monkeypatch):
    setup_society(*FLAGS, monkeypatch=monkeypatch)
    admin = get_user_model().objects.get()
    out = setup_society("--no-input", "--phone", "03-9999-0000", "--hours", "平日 8:30〜17:15",
                        "--employer", "E0001=テスト株式会社 本社", "--employer", "E0002=テスト物流",
                        "--admin-email", "it@kenpo.example.jp", password="another-Password-1", monkeypatch=monkeypatch)
    society = Society.objects.get()
    assert (society.name, society.phone, society.hours) == ("テスト健康保険組合", "03-9999-0000", "平日 8:30〜17:15")
    assert dict(Employer.objects.values_list("code", "name")) == {"E0001": "テスト株式会社 本社", "E0002": "テスト物流"}
    assert get_user_model().objects.get().password == admin.password
    assert "already exists" in out


@pytest.mark.parametrize(("change", "message"), [
    (["--insurer-number", "12345678"], "06"),
    (["--employer", "E0001"], "CODE=NAME"),
    (["--admin-email", "not-an-address"], "not-an-address"),
])
def test_bad_values_are_refused_and_nothing_is_written(monkeypatch, change, message):
    flags = [*FLAGS]
    index = flags.index(change[0])
    flags[index + 1] = change[1]
    with pytest.raises(CommandError, match=message):
        setup_society(*flags, monkeypatch=monkeypatch)
    assert not Society.objects.exists() and not get_user_model().objects.exists()


def test_a_weak_or_missing_password_is_refused(monkeypatch):
    with pytest.raises(CommandError, match=r"password|パスワード"):
        setup_society(*FLAGS, password="12345", monkeypatch=monkeypatch)
    monkeypatch.delenv("KENPO_ADMIN_PASSWORD")
    with pytest.raises(CommandError, match="KENPO_ADMIN_PASSWORD"):
        setup_society(*FLAGS)
    assert not get_user_model().objects.exists()


def test_without_flags_it_asks_and_asks_the_password_twice(monkeypatch):
    answers = iter(["06765432", "対話健康保険組合", "大阪府大阪市北区1-1", "", "", "staff@kenpo.example.jp"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    passwords = iter(["first-Try-2026", "typo", PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(passwords))
    setup_society()
    society = Society.objects.get()
    assert (society.name, society.phone, society.hours) == ("対話健康保険組合", "", "平日 9:00〜17:00")
    assert get_user_model().objects.get().check_password(PASSWORD)


def test_with_no_input_a_missing_value_is_named(monkeypatch):
    with pytest.raises(CommandError, match="society name"):
        setup_society("--no-input", "--insurer-number", "06123456", monkeypatch=monkeypatch)
