"""The one gate of every staff page: staff login, an MFA-verified session, the role.

``staff_required(permission)`` wraps every staff view outside the admin (the
dashboard, imports, the certificates' review queue …); the admin site's
``admin_view`` (``staff.admin_site``) wraps every admin view with the same
``mfa_verified`` step. ``staff.middleware.StaffMFARequiredMiddleware`` stays as the
net for anything added without it. It lives in ``core`` because staff views of
lower apps (certificates, imports) use it and a lower app never imports ``staff``.

allauth records each authentication step in the session; an "mfa" record for this
user is the proof that this session passed the second factor.
"""

import time
from functools import wraps

from allauth.account import app_settings as account_settings
from allauth.account.authentication import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    get_authentication_records,
)
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

SETUP_MESSAGE = _(
    "職員の方は、管理画面を開く前に多要素認証（認証アプリ）の設定が必要です。認証アプリでQRコードを読み取り、表示された6桁のコードを入力してください。"
)
CONFIRM_MESSAGE = _("管理画面を開くには、認証アプリの6桁のコード（またはリカバリーコード）を入力してください。")
FACTOR_MESSAGE = _("多要素認証の設定を変えるには、いまお使いの認証アプリのコード（またはリカバリーコード）を入力してください。")
# Set on every view that went through the gate; the URL walk in staff/tests checks it.
MARK = "kenpo_staff_gate"


def is_staff_login(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


def session_used_mfa(request: HttpRequest, user) -> bool:
    """True when this session's login included an MFA step by ``user``."""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


def mfa_redirect(request: HttpRequest) -> HttpResponseRedirect | None:
    """Where a staff login without an MFA-verified session must go first, or None."""
    user = getattr(request, "user", None)
    if not is_staff_login(user):
        return None
    next_query = urlencode({"next": request.get_full_path()})
    if not is_mfa_enabled(user):
        messages.info(request, SETUP_MESSAGE)
        return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{next_query}")
    if not session_used_mfa(request, user):
        messages.info(request, CONFIRM_MESSAGE)
        return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{next_query}")
    return None


def mark(view):
    setattr(view, MARK, True)
    return view


def mfa_verified(view):
    """Staff logins reach ``view`` only with an MFA-verified session."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        return mfa_redirect(request) or view(request, *args, **kwargs)

    return mark(wrapper)


def staff_required(permission: str | None = None):
    """Staff (active, is_staff) with an MFA-verified session holding ``permission``.

    Anonymous visitors go to the login; members and staff without the role get 403.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            if not (user.is_active and user.is_staff):
                raise PermissionDenied
            redirect = mfa_redirect(request)
            if redirect is not None:
                return redirect
            if permission and not user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return mark(wrapper)

    return decorator


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
