"""The portal's allauth adapters: one client address, fair lockouts, encrypted MFA secrets.

``AccountAdapter``
- the client's address for allauth's rate limits is ``core.network.client_ip``, the
  same one the audit log records, both driven by ``KENPO_TRUSTED_PROXY_COUNT``
  (settings also sets allauth's own ``ALLAUTH_TRUSTED_PROXY_COUNT`` from it);
- failed logins are counted per account **and** client address (an IPv6 address
  cut to its /64, as allauth cuts its own): five wrong passwords lock that account
  out for that address only, so nobody can lock a known staff e-mail out of its
  owner's login from elsewhere. Each address still has its own overall limit
  (``ACCOUNT_RATE_LIMITS["login_failed"]``, ``/ip``) against password spraying;
- a browser that has logged in as an account before carries a signed device cookie
  naming it (OWASP's "device cookies"): its logins to *that* account skip the
  address's overall limit and have a bucket of their own
  (``login_failed_known_device``, per account and address), so ten failures on
  random accounts from an office's or a carrier's shared address no longer lock
  out a correct login from that address (issue 24, 6).
  allauth 65 builds that key in ``_get_login_attempts_cache_key`` (login, the
  password-reset clear and reauthentication all use it); the test in
  ``staff/tests/test_rate_limits.py`` notices if a later allauth stops calling it.

``MFAAdapter``
- TOTP secrets and recovery-code seeds are stored encrypted (Fernet) with the key(s)
  of ``KENPO_MFA_ENCRYPTION_KEY``; see ``settings.py`` for where the key comes from.
"""

import base64
import hashlib

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal import ratelimit
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.shortcuts import resolve_url

from .network import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request) -> str:
        address = client_ip(request)
        if not address:
            raise PermissionDenied("Unable to determine client IP address")
        return address

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        address = ratelimit.truncate_ip(self.get_client_ip(request))
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{address}"

    def pre_authenticate(self, request, **credentials) -> None:
        if not _from_known_device(request, credentials):
            return super().pre_authenticate(request, **credentials)
        self._login_failed_rl_usage = ratelimit.consume(
            request, app="allauth.account", action="login_failed_known_device",
            key=self._get_login_attempts_cache_key(request, **credentials),
        )
        if not self._login_failed_rl_usage:
            raise self.validation_error("too_many_login_attempts")
        return None

    def post_login(self, request, user, **kwargs):
        from .mfa import trust_fresh_login

        trust_fresh_login(request)
        response = super().post_login(request, user, **kwargs)
        response.set_cookie(DEVICE_COOKIE, signing.dumps({"u": user.pk}, salt=DEVICE_SALT, compress=True),
                            max_age=DEVICE_MAX_AGE, secure=settings.SESSION_COOKIE_SECURE, httponly=True,
                            samesite="Lax")
        return response

    def get_login_redirect_url(self, request) -> str:
        """Staff land on the admin (their work), members on their dashboard (a ``next`` wins for both)."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and (user.is_staff or user.is_superuser):
            return resolve_url("admin:index")
        return super().get_login_redirect_url(request)


DEVICE_COOKIE = "kenpo_device"
DEVICE_SALT = "kenpo-portal.login-device"
DEVICE_MAX_AGE = 60 * 60 * 24 * 180


def _from_known_device(request, credentials: dict) -> bool:
    """True when this browser logged in before as the account ``credentials`` name."""
    try:
        user_id = signing.loads(request.COOKIES.get(DEVICE_COOKIE, ""), salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)["u"]
    except (signing.BadSignature, KeyError, TypeError):
        return False
    login = str(credentials.get("email") or credentials.get("username") or "")
    if not login or not isinstance(user_id, int):
        return False
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    return (EmailAddress.objects.filter(user_id=user_id, email__iexact=login).exists()
            or get_user_model().objects.filter(pk=user_id, email__iexact=login).exists())


class MFAKeyMismatch(ImproperlyConfigured):
    """A stored MFA secret does not decrypt with any KENPO_MFA_ENCRYPTION_KEY: the database
    was restored under another key, or a key was rotated away too early. Shown to the
    visitor as a clear page (``kenpo_portal.errors.MFAKeyMismatchMiddleware``), never as
    a wrong code; ``manage.py rotate_mfa_key`` re-encrypts once the old key is known."""


def fernet_key(secret: str) -> bytes:
    """A Fernet key from any secret string (a random key, or the SECRET_KEY)."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"kenpo-portal.mfa:{secret}".encode()).digest())


def mfa_cipher() -> MultiFernet:
    """The first key encrypts; every key decrypts (rotation: put the new key first)."""
    keys = settings.KENPO_MFA_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("KENPO_MFA_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(fernet_key(k)) for k in keys])


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return mfa_cipher().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        try:
            return mfa_cipher().decrypt(encrypted_text.encode()).decode()
        except InvalidToken as exc:
            # Loudly: a wrong or rotated-away key must not look like a wrong code.
            raise MFAKeyMismatch("An MFA secret cannot be decrypted with KENPO_MFA_ENCRYPTION_KEY") from exc
