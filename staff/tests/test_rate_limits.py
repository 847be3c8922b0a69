"""Rate limits behind the proxy (KENPO_TRUSTED_PROXY_COUNT drives allauth's too), and
lockouts keyed on the account AND the client address."""

import pytest
from django.test import Client
from django.urls import reverse

from core.adapters import AccountAdapter

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"  # every request arrives from the reverse proxy
GOOD = "correct-horse-battery"


def behind_proxy(client_address: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)


def login(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.fixture(autouse=True)
def _one_proxy(settings):
    settings.KENPO_TRUSTED_PROXY_COUNT = 1


def test_one_clients_wrong_passwords_do_not_lock_out_everybody_behind_the_proxy(alice, bob):
    attacker = behind_proxy("203.0.113.5")
    for n in range(12):
        login(attacker, f"nobody{n}@example.jp", "wrong-password-1")
    # The attacker's address is now limited …
    assert login(attacker, "bob@example.jp", GOOD).status_code == 429 or "_auth_user_id" not in attacker.session
    # … but another client behind the same proxy logs in.
    other = behind_proxy("198.51.100.7")
    login(other, "bob@example.jp", GOOD)
    assert "_auth_user_id" in other.session


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out_from_another(alice):
    attacker = behind_proxy("203.0.113.5")
    for _ in range(6):
        login(attacker, "alice@example.jp", "wrong-password-1")
    login(attacker, "alice@example.jp", GOOD)
    assert "_auth_user_id" not in attacker.session  # locked for this address

    owner = behind_proxy("198.51.100.7")
    login(owner, "alice@example.jp", GOOD)
    assert "_auth_user_id" in owner.session


def test_the_lockout_key_names_the_account_and_the_address(rf):
    request = rf.post("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    key = AccountAdapter(request)._get_login_attempts_cache_key(request, email="Alice@Example.jp")
    assert key.endswith(":alice@example.jp:203.0.113.5")


def test_allauth_reads_the_client_address_as_the_audit_log_does(rf):
    from allauth.account.adapter import get_adapter

    from core.network import client_ip

    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert get_adapter(request).get_client_ip(request) == client_ip(request) == "203.0.113.5"


def test_failures_on_random_accounts_from_a_shared_address_do_not_lock_out_a_known_browser(alice, bob):
    # issue 24 (6): an office or carrier NAT: one address, many people
    shared = "203.0.113.5"
    colleague = behind_proxy(shared)
    login(colleague, "bob@example.jp", GOOD)
    assert "_auth_user_id" in colleague.session
    colleague.post(reverse("account_logout"))
    attacker = behind_proxy(shared)
    for n in range(12):
        login(attacker, f"nobody{n}@example.jp", "wrong-password-1")
    assert "_auth_user_id" not in login(attacker, "alice@example.jp", GOOD).wsgi_request.session  # spraying is limited
    login(colleague, "bob@example.jp", GOOD)  # the browser bob used before
    assert "_auth_user_id" in colleague.session


def test_a_known_browser_is_still_limited_on_its_own_account(bob):
    browser = behind_proxy("203.0.113.5")
    login(browser, "bob@example.jp", GOOD)
    browser.post(reverse("account_logout"))
    for _ in range(6):
        login(browser, "bob@example.jp", "wrong-password-1")
    login(browser, "bob@example.jp", GOOD)
    assert "_auth_user_id" not in browser.session


def test_the_device_cookie_names_only_its_own_account(alice, bob):
    browser = behind_proxy("203.0.113.5")
    login(browser, "bob@example.jp", GOOD)
    browser.post(reverse("account_logout"))
    for n in range(12):
        login(browser, f"nobody{n}@example.jp", "wrong-password-1")
    login(browser, "alice@example.jp", GOOD)  # not the account this browser knows
    assert "_auth_user_id" not in browser.session


def test_an_ipv6_client_is_keyed_by_its_64_as_allauth_keys_it(rf):
    first = rf.post("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="2001:db8:1:2::aaaa")
    second = rf.post("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="2001:db8:1:2:ffff::1")
    key = AccountAdapter(first)._get_login_attempts_cache_key(first, email="alice@example.jp")
    assert key == AccountAdapter(second)._get_login_attempts_cache_key(second, email="alice@example.jp")
    assert key.endswith(":alice@example.jp:2001:db8:1:2::")
