"""The portal's allauth adapters: one client address, fair lockouts, encrypted MFA secrets.

``AccountAdapter``
- the client's address for allauth's rate limits is ``core.network.client_ip``, the
  same one the audit log records, both driven by ``KENPO_TRUSTED_PROXY_COUNT``
  (settings also sets allauth's own ``ALLAUTH_TRUSTED_PROXY_COUNT`` from it);
- failed logins are counted per account **and** client address: five wrong
  passwords lock that account out for that address only, so nobody can lock a
  known staff e-mail out of its owner's login from elsewhere. Each address still
  has its own overall limit (``ACCOUNT_RATE_LIMITS["login_failed"]``, ``/ip``).
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
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
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
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{self.get_client_ip(request)}"

    def get_login_redirect_url(self, request) -> str:
        """Staff land on the admin (their work), members on their dashboard (a ``next`` wins for both)."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and (user.is_staff or user.is_superuser):
            return resolve_url("admin:index")
        return super().get_login_redirect_url(request)


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
            raise ImproperlyConfigured("An MFA secret cannot be decrypted with KENPO_MFA_ENCRYPTION_KEY") from exc
