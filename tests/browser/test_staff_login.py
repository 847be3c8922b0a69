"""A staff member's first login in a real browser: the password once, then setting up
the authenticator app (its first code is the session's second factor: issue 25), the
recovery codes, and only then the admin — whose pages run under the strict CSP
without a single violation."""

import base64
import hashlib
import hmac
import struct
import time

import pytest

from staff.roles import CLERK
from staff.testing import PASSWORD, make_staff
from tests.browser_support import assert_accessible
from tests.factories import CardFactsFactory, PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def totp(secret: str, offset: int = 0) -> str:
    counter = int(time.time()) // 30 + offset
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    start = digest[-1] & 15
    return f"{(struct.unpack('>I', digest[start:start + 4])[0] & 0x7FFFFFFF) % 10**6:06d}"


def submit(page):
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def test_a_new_staff_member_sets_up_mfa_before_the_admin_opens(browser_page, live_server, settings):
    # One period of tolerance, so the test need not wait 30 s for a fresh code.
    settings.MFA_TOTP_TOLERANCE = 1
    make_staff(role=CLERK, email="new-clerk@kenpo.example.jp", with_totp=False)
    person = PersonFactory(family_name="高橋", given_name="和子")
    CardFactsFactory(person=person)
    page = browser_page
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"{live_server.url}/admin/")
    assert "/accounts/login/" in page.url
    assert_accessible(page)
    page.fill("input[name=login]", "new-clerk@kenpo.example.jp")
    page.fill("input[name=password]", PASSWORD)
    submit(page)

    # The password just typed counts as allauth's reauthentication: it is not asked again (issue 25).
    assert "/accounts/2fa/totp/activate/" in page.url
    assert_accessible(page)
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", totp(secret))
    submit(page)

    assert "/accounts/2fa/recovery-codes/" in page.url
    assert_accessible(page)
    page.click("text=管理画面へ進む")
    page.wait_for_load_state()
    # The code that activated the device is this session's second factor: no second code (issue 25).
    assert page.url.rstrip("/").endswith("/admin")
    for path in ("/admin/eligibility/person/", f"/admin/eligibility/person/{person.pk}/change/",
                 "/admin/eligibility/person/lookup/"):
        page.goto(f"{live_server.url}{path}")
        assert page.locator("#content").is_visible(), path
    assert csp_errors == []
