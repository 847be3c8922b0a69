"""Hardening: members never reach staff pages or other households' objects; every
text box staff type in refuses a My Number; 記号・番号 stay out of URLs; big admin
lists paginate without COUNT(*); rate limits; production settings pass check --deploy."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core import pagination
from eligibility.models import Person
from eligibility.selectors import person_for_member
from staff.roles import CLERK, VIEWER
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


@pytest.mark.parametrize("route", list(_member_patterns()) or ["(none yet)"])
def test_no_member_url_opens_another_households_object_by_id(client, alice, charlie_person, route):
    if route == "(none yet)":
        pytest.skip("no member URL takes an id yet")
    client.force_login(alice)
    # charlie's ids, and ids that exist nowhere, in every integer slot.
    for value in (charlie_person.pk, 10**9):
        url = "/" + re.sub(r"<int:\w+>", str(value), route)
        url = re.sub(r"<(?:str:|slug:)?\w+>", "x", url).replace("^", "").replace("$", "")
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in (302, 400, 403, 404, 405), (url, response.status_code)
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


# --- big lists without COUNT(*) -------------------------------------------------------------------------------

def _full_counts(queries, table):
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and f'FROM "{table}"' in q["sql"] and "WHERE" not in q["sql"].upper()]


def test_the_person_list_does_not_count_the_whole_table(client, monkeypatch, alice_person, bob_person, charlie_person):
    if connection.vendor != "postgresql":
        pytest.skip("the estimate is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "eligibility_person"')
    monkeypatch.setattr(pagination, "EXACT_BELOW", 0)  # treat this table as big
    login_with_mfa(client, make_staff(role=VIEWER, email="v@kenpo.example.jp"))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:eligibility_person_changelist"))
    assert response.status_code == 200
    assert _full_counts(ctx.captured_queries, "eligibility_person") == []
    assert response.context["cl"].result_count == 3  # the planner's estimate, exact after ANALYZE


def test_a_filtered_count_that_takes_too_long_falls_back_to_the_planners_estimate(monkeypatch, alice_person, bob_person):
    if connection.vendor != "postgresql":
        pytest.skip("the estimate is PostgreSQL's")
    from django.db import OperationalError

    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "eligibility_person"')
    monkeypatch.setattr(pagination, "EXACT_BELOW", 0)
    qs = Person.objects.filter(family_name_kana="サトウ").order_by("pk")

    def too_slow(self):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(type(qs), "count", too_slow)
    count = pagination.EstimatedCountPaginator(qs, 100).count
    assert isinstance(count, int) and count >= 1


def test_small_tables_are_counted_exactly(alice_person, bob_person):
    assert pagination.EstimatedCountPaginator(Person.objects.order_by("pk"), 100).count == 2


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


def test_production_responses_carry_hsts_secure_cookies_and_csp(settings, client, alice):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_SSL_REDIRECT = False
    response = client.get("/", secure=True)
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


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
