"""Second factors of every login, member, staff or employer contact (allauth MFA), where
allauth's defaults fall short, and the proof that a session passed one.

- ``session_used_mfa``: the proof every gate that demands a second factor reads (the staff
  gate, ``staff.access``; the employer contacts' gate, ``employer.access``).

- Changing a factor needs the current one (issue 24, 5): allauth lets a *password*
  reauthentication open the pages that turn TOTP off, add a key or reveal recovery
  codes, so the password alone could swap the second factor. ``factor_change_redirect``
  (run by ``core.middleware.FactorChangeNeedsFactorMiddleware``) sends a login with MFA
  to confirm a code first. Setting up a first factor needs none (there is none yet);
  a lost one is a 管理者's revoke in the admin (audited).
- A first login asks for each thing once (issue 25): the password typed for a login
  counts as allauth's reauthentication for its window (``trust_fresh_login``, from the
  account adapter's ``post_login``), and the code that activates a new TOTP device is
  that session's second factor (``count_enrolment_as_second_factor``, on allauth's
  ``authenticator_added``), so the staff gate asks no second code right after enrolment.
"""

import time

from allauth.account import app_settings as account_settings
from allauth.account.authentication import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    get_authentication_records,
)
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

FACTOR_MESSAGE = _("多要素認証の設定を変えるには、いまお使いの認証アプリのコード（またはリカバリーコード）を入力してください。")


def session_used_mfa(request: HttpRequest, user) -> bool:
    """True when this session's login included an MFA step by ``user`` (allauth records each
    authentication step in the session)."""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


# --- changing a second factor needs the current one (issue 24, 5) --------------------------------

# allauth's pages that add, remove or reveal a factor. allauth itself lets a password
# reauthentication open them: with the password alone, TOTP could be turned off and replaced.
FACTOR_CHANGES = frozenset({
    "mfa_activate_totp", "mfa_deactivate_totp", "mfa_generate_recovery_codes", "mfa_view_recovery_codes",
    "mfa_download_recovery_codes", "mfa_add_webauthn", "mfa_remove_webauthn", "mfa_edit_webauthn",
})


def recently_used_second_factor(request: HttpRequest, user) -> bool:
    """A code (or key) of this login was used in this session within allauth's
    reauthentication window (``ACCOUNT_REAUTHENTICATION_TIMEOUT``, 5 minutes)."""
    since = time.time() - account_settings.REAUTHENTICATION_TIMEOUT
    return any(r.get("method") == "mfa" and r.get("at", 0) >= since for r in get_authentication_records(request, user))


def factor_change_redirect(request: HttpRequest, url_name: str | None) -> HttpResponseRedirect | None:
    """Where a login with MFA must go before changing a factor, or None. Setting up a
    first factor needs none (there is none yet); a 管理者 can revoke a lost one (audited)."""
    user = getattr(request, "user", None)
    if url_name not in FACTOR_CHANGES or not (user and user.is_authenticated) or not is_mfa_enabled(user):
        return None
    if recently_used_second_factor(request, user):
        return None
    messages.info(request, FACTOR_MESSAGE)
    return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}")


# --- a first login asks for each thing once (issue 25) -------------------------------------------


def trust_fresh_login(request: HttpRequest) -> None:
    """The password (and code) typed for this login count as a reauthentication for allauth's
    window: setting up TOTP right after the first login does not ask for the password again."""
    records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY)
    if isinstance(records, list) and records:
        for entry in records:
            entry["reauthenticated"] = True
        request.session.modified = True


def count_enrolment_as_second_factor(sender, request, user, authenticator, **kwargs) -> None:
    """A new TOTP device is activated with a valid code from it: that is this session's
    second factor, so the staff pages do not ask for another code right after enrolment."""
    if request is not None and authenticator.type == Authenticator.Type.TOTP:
        record_authentication(request, user, "mfa", type=str(authenticator.type), id=authenticator.pk,
                              reauthenticated=True)
