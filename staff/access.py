"""The one gate of every staff page: staff login, an MFA-verified session, the role.

``staff_required(permission)`` wraps every staff view outside the admin (the
dashboard, imports, the certificates' review queue …); the admin site's
``admin_view`` (``staff.admin_site``) wraps every admin view with the same
``mfa_verified`` step. ``staff.middleware.StaffMFARequiredMiddleware`` stays as the
net for anything added without it. Every staff page lives in ``staff``, so the gate does too.

allauth records each authentication step in the session; an "mfa" record for this
user is the proof that this session passed the second factor.
"""

from functools import wraps

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from core.mfa import session_used_mfa

SETUP_MESSAGE = _(
    "職員の方は、管理画面を開く前に多要素認証（認証アプリ）の設定が必要です。認証アプリでQRコードを読み取り、表示された6桁のコードを入力してください。"
)
CONFIRM_MESSAGE = _("管理画面を開くには、認証アプリの6桁のコード（またはリカバリーコード）を入力してください。")
# Set on every view that went through the gate; the URL walk in staff/tests checks it.
MARK = "kenpo_staff_gate"


def is_staff_login(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


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
