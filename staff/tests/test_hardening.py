"""Hardening: members never reach staff pages or other households' objects; every
text box staff type in refuses a My Number; 記号・番号 stay out of URLs; big admin
lists paginate without COUNT(*); rate limits; production settings pass check --deploy."""

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.http import Http404
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from eligibility.selectors import person_for_member
from staff.roles import CLERK, MANAGER, VIEWER
from staff.testing import admin_form_data, login_with_mfa, make_staff

pytestmark = pytest.mark.django_db

BASE_DIR = Path(django_settings.BASE_DIR)


STAFF_URLS = [
    "/admin/",
    "/admin/eligibility/person/",
    "/admin/eligibility/person/lookup/",
    "/admin/audit/auditentry/",
    "/admin/auth/user/",
    "/staff/",
]


# --- members and staff pages -------------------------------------------------------------

@pytest.mark.parametrize("url", STAFF_URLS)
def test_a_member_trying_staff_urls_is_refused(client, alice, alice_person, url):
    client.force_login(alice)
    for target in (url, url.replace("person/", f"person/{alice_person.pk}/change/") if "person/" in url else url):
        for method in (client.get, client.post):
            response = method(target, follow=True)  # the admin first redirects to its login
            assert response.status_code in (403, 404), target
            assert "app_list" not in (response.context or {}), target


@pytest.mark.parametrize("url", STAFF_URLS)
def test_an_anonymous_visitor_is_sent_to_the_login(client, url):
    response = client.get(url)
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert "/accounts/login/" in response["Location"] or "/admin/login/" in response["Location"]


def test_another_households_person_is_a_404_for_a_member(alice, charlie_person, alice_person):
    assert person_for_member(alice, alice_person.pk) == alice_person
    for pk in (charlie_person.pk, 10**9, "not-a-number", None):
        with pytest.raises(Http404):
            person_for_member(alice, pk)


def test_a_dependents_own_login_does_not_see_the_rest_of_the_household(bob, alice_person):
    with pytest.raises(Http404):
        person_for_member(bob, alice_person.pk)


def _member_patterns(resolver=None, prefix=""):
    """Every URL pattern under the member-facing prefixes that takes an integer."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _member_patterns(entry, route)
        elif (isinstance(entry, URLPattern) and "<int:" in route and route.startswith(("my/", "certificates/", "reminders/"))
              and "/staff/" not in route and "bench/" not in route):
            yield route


# What the id in each member URL names: a new member URL that takes an id must say here
# which object it opens, so the sweep below puts an id of the right kind in it.
ID_KINDS = {
    "my/person/<int:pk>/": "person",
    "certificates/request/<int:person_id>/": "person",
    "certificates/requests/<int:pk>/": "request",
    "reminders/<int:pk>/": "reminder",
    "my/notices/<int:pk>/": "person",
}
# Valid values for the other parts, so the household's own URL really opens.
SLUGS = {"reason": "card_lost"}


def _id_kind(route: str) -> str | None:
    return next((kind for start, kind in ID_KINDS.items() if route.startswith(start) or route + "/" == start), None)


def _objects_of(person):
    """One object of each kind belonging to ``person``'s household."""
    from certificates.models import ReissueRequest
    from reminders.models import Reminder

    request = ReissueRequest.objects.create(person=person, reason="card_lost")
    reminder = Reminder.objects.create(person=person, household=person.household, subject=Reminder.Subject.values[0],
                                       stage=Reminder.Stage.values[0], expires_on=date(2030, 1, 1),
                                       due_on=date(2029, 10, 2))
    return {"person": person.pk, "request": request.pk, "reminder": reminder.pk}


def _url(route: str, id_value: int) -> str:
    url = "/" + re.sub(r"<int:\w+>", str(id_value), route)
    return re.sub(r"<(?:str:|slug:)?(\w+)>", lambda m: SLUGS.get(m.group(1), "x"), url).replace("^", "").replace("$", "")


@pytest.mark.parametrize("route", list(_member_patterns()))
def test_no_member_url_opens_another_households_object_by_id(client, alice, alice_person, charlie_person, route):
    kind = _id_kind(route)
    assert kind, f"say in ID_KINDS which object the id in {route!r} names"
    # Kept apart: no id of charlie's can also be one of alice's by chance.
    charlies = _objects_of(charlie_person)
    alices = _objects_of(alice_person)
    assert charlies[kind] != alices[kind]
    client.force_login(alice)
    # charlie's object of the kind the URL takes, and an id that exists nowhere.
    for value in (charlies[kind], 10**9):
        url = _url(route, value)
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 404 or response.status_code == 405, (url, response.status_code)
    # The same URL with alice's own object opens: the id went into the slot it names.
    url = _url(route, alices[kind])
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    assert response.status_code in (200, 302), (url, response.status_code)
    if response.status_code == 302:
        assert "/accounts/login/" not in response["Location"]


# --- the My Number check in the admin -------------------------------------------------------------

@pytest.mark.parametrize(
    ("field", "value"),
    [("family_name", "1234 5678 9018"), ("print_name", "１２３４５６７８９０１９"), ("given_name_kana", "123456789018")],
)
def test_staff_cannot_type_a_my_number_into_a_person(client, alice_person, field, value):
    login_with_mfa(client, make_staff(role=CLERK, email="c@kenpo.example.jp"))
    url = reverse("admin:eligibility_person_change", args=[alice_person.pk])
    response = client.post(url, admin_form_data(client.get(url), **{field: value}))
    assert response.status_code == 200
    assert "個人番号" in str(response.context["adminform"].form.errors[field])
    alice_person.refresh_from_db()
    assert getattr(alice_person, field) != value


def test_staff_cannot_type_a_my_number_into_an_address(client, alice_person):
    login_with_mfa(client, make_staff(role=CLERK, email="c@kenpo.example.jp"))
    household = alice_person.household
    url = reverse("admin:eligibility_household_change", args=[household.pk])
    response = client.post(url, admin_form_data(client.get(url), address="東京都 1234-5678-9018"))
    assert response.status_code == 200
    assert "address" in response.context["adminform"].form.errors


# --- 記号・番号 never in URLs -------------------------------------------------------------------------

def test_the_person_search_does_not_search_by_symbol_or_number(client, alice_person):
    login_with_mfa(client, make_staff(role=VIEWER, email="v@kenpo.example.jp"))
    response = client.get(reverse("admin:eligibility_person_changelist"), {"q": "5678"})
    assert list(response.context["cl"].result_list) == []
    response = client.get(reverse("admin:eligibility_person_changelist"), {"q": "サトウ"})
    assert alice_person in response.context["cl"].result_list


def test_the_lookup_by_symbol_and_number_is_a_post_that_redirects_by_id(client, alice_person, bob_person):
    login_with_mfa(client, make_staff(role=VIEWER, email="v@kenpo.example.jp"))
    url = reverse("admin:eligibility_person_lookup")
    response = client.post(url, {"symbol": "1234", "number": "0005678", "branch_number": "0"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:eligibility_person_change", args=[alice_person.pk])
    assert "5678" not in response["Location"]

    several = client.post(url, {"symbol": "1234", "number": "5678"})
    assert several.status_code == 200
    assert set(several.context["results"]) == {alice_person, bob_person}
    assert client.get(url).status_code == 200  # an empty form; nothing is looked up by GET
    assert client.get(url, {"symbol": "1234", "number": "5678"}).context["results"] is None


def test_the_lookup_explains_bad_input(client, db):
    login_with_mfa(client, make_staff(role=VIEWER, email="v@kenpo.example.jp"))
    response = client.post(reverse("admin:eligibility_person_lookup"), {"symbol": "12a", "number": ""})
    assert response.status_code == 200
    assert response.context["form"].errors


# --- rate limits --------------------------------------------------------------------------------------------------

def test_rate_limits_cover_login_signup_password_reset_and_linking():
    limits = django_settings.ACCOUNT_RATE_LIMITS
    assert {"login", "login_failed", "signup", "reset_password", "reset_password_from_key", "link_member"} <= set(limits)


def test_repeated_wrong_passwords_lock_the_account_for_a_while(client, alice):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "alice@example.jp", "password": "wrong-password-1"})
    response = client.post(reverse("account_login"), {"login": "alice@example.jp", "password": "correct-horse-battery"})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)


# --- production settings -------------------------------------------------------------------------------------------

# check --deploy with production settings: tests/test_foundation.py (in a bare environment).


def _production(script: str, **extra) -> subprocess.CompletedProcess:
    """Run ``script`` under the production settings, as CI's environment sets them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KENPO_"))}
    env.update(DJANGO_ENV="production", DJANGO_SECRET_KEY="p" * 50, DJANGO_ALLOWED_HOSTS="testserver", **extra)
    setup = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'kenpo_portal.settings'); django.setup();"
    return subprocess.run([sys.executable, "-c", setup + script], cwd=BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def test_production_responses_carry_hsts_secure_cookies_and_csp():
    # The production settings themselves, not values this test sets.
    result = _production(
        "from django.test import Client; c = Client();"
        "r = c.get('/healthz', secure=True); h = r.headers;"
        "print(h.get('Strict-Transport-Security')); print(h.get('Content-Security-Policy'));"
        "print(h.get('X-Frame-Options'), h.get('X-Content-Type-Options'));"
        "p = c.get('/accounts/login/'); print(p.status_code, p.headers.get('Location'));"
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    assert result.returncode == 0, result.stderr
    hsts, csp, frame, redirect, cookies = result.stdout.strip().splitlines()[-5:]
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in csp
    assert frame == "DENY nosniff"
    assert redirect == "301 https://testserver/accounts/login/"  # plain HTTP is sent to HTTPS
    assert cookies == "True True"


def test_one_setting_tells_our_code_and_allauth_how_many_proxies_to_trust():
    result = _production("from django.conf import settings as s; print(s.KENPO_TRUSTED_PROXY_COUNT, "
                         "s.ALLAUTH_TRUSTED_PROXY_COUNT, s.SECURE_PROXY_SSL_HEADER)", KENPO_TRUSTED_PROXY_COUNT="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1 1 ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_an_email_url_becomes_named_settings():
    result = _production("from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, "
                         "s.EMAIL_HOST_USER, s.EMAIL_USE_TLS)", EMAIL_URL="smtp+tls://mailer:pw@mail.example.jp:587")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.core.mail.backends.smtp.EmailBackend mail.example.jp 587 mailer True"
    assert "vars()" not in (BASE_DIR / "kenpo_portal" / "settings.py").read_text()  # settings named, not injected


# --- only declared filters in admin query strings ------------------------------------------------------------


def test_the_household_list_refuses_symbol_and_number_in_its_query_string(client, household):
    login_with_mfa(client, make_staff(role=VIEWER, email="v@kenpo.example.jp"))
    url = reverse("admin:eligibility_household_changelist")
    assert client.get(url, {"symbol": "1234", "number": "5678"}).status_code == 400
    assert client.get(url, {"number__startswith": "56"}).status_code == 400
    assert client.get(url, {"voluntary_continuation__exact": "1"}).status_code == 200  # declared


def test_every_admin_refuses_a_lookup_on_an_undeclared_field(rf, django_user_model):
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = django_user_model.objects.create_superuser("root", "root@kenpo.example.jp", "x-Very-long-pass-1")
    checked = 0
    for model, model_admin in admin.site._registry.items():
        declared = model_admin.declared_filter_paths(request)
        for field in model._meta.concrete_fields:
            if field.name in declared or field.primary_key:
                continue
            assert not model_admin.lookup_allowed(f"{field.name}__exact", "1", request), (model, field.name)
            checked += 1
    assert checked > 50


# --- a My Number in a search box ---------------------------------------------------------------------


@pytest.mark.parametrize("query", ["1234.5678.9018", "１２３４－５６７８－９０１９", "12-3456-7890-18"])
def test_a_search_holding_a_my_number_is_refused_and_dropped_from_the_url(client, alice_person, query):
    from audit.models import AuditEntry

    login_with_mfa(client, make_staff(role=VIEWER, email="v@kenpo.example.jp"))
    url = reverse("admin:eligibility_person_changelist")
    response = client.get(url, {"q": query, "relationship__exact": "self"})
    assert response.status_code == 302
    assert response["Location"] == f"{url}?relationship__exact=self"
    page = client.get(response["Location"]).content.decode()
    assert "検索しませんでした" in page
    assert not any(query in str(e.details) for e in AuditEntry.objects.all())


def test_the_autocomplete_refuses_a_my_number_too(client, db):
    login_with_mfa(client, make_staff(role=VIEWER, email="v@kenpo.example.jp"))
    response = client.get("/admin/autocomplete/", {"term": "1234 5678 9018", "app_label": "eligibility",
                                                    "model_name": "household", "field_name": "employer"})
    assert response.status_code == 400
    assert response.json()["results"] == []


# --- dates out of range in the admin ------------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_an_absurd_card_expiry_is_refused_with_a_message_not_a_500(client, alice_person, day):
    login_with_mfa(client, make_staff(role=CLERK, email="c@kenpo.example.jp"))
    url = reverse("admin:eligibility_person_change", args=[alice_person.pk])
    data = admin_form_data(client.get(url), **{"card-0-card_expires_on": day, "card-0-has_card": "on"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "2100-12-31" in response.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_an_absurd_scan_day_is_refused_with_a_message_not_a_500(client, day):
    login_with_mfa(client, make_staff(role=MANAGER, email="m@kenpo.example.jp"))
    response = client.post(reverse("admin:reminders_reminder_scan"), {"day": day})
    assert response.status_code == 200
    assert "2100-12-31" in response.content.decode()


def _staff_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _staff_patterns(entry, route)
        elif isinstance(entry, URLPattern) and ("/staff/" in "/" + route) and not route.startswith("admin/"):
            yield route


@pytest.mark.parametrize("route", list(_staff_patterns()) or ["staff/"])
def test_a_member_gets_no_staff_page_of_any_app(client, alice, alice_person, route):
    client.force_login(alice)
    url = "/" + re.sub(r"<int:\w+>", str(alice_person.pk), route)
    url = re.sub(r"<(?:str:|slug:)?\w+>", "x", url)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code in (403, 404, 405), (url, response.status_code)


# --- 記号・番号 that collide once leading zeros are stripped ----------------------------------------------


def test_a_household_colliding_after_leading_zeros_is_refused_on_the_form(client, household):
    from eligibility.models import Household

    login_with_mfa(client, make_staff(role=CLERK, email="c@kenpo.example.jp"))
    add = reverse("admin:eligibility_household_add")
    data = admin_form_data(client.get(add), society=str(household.society_id), symbol="001234", number="0005678")
    response = client.post(add, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Household.objects.filter(number="5678").count() == 1
