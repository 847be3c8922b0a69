"""Staff must use MFA before any admin or staff page opens.

A staff login (is_staff or is_superuser) that asks for /admin/, /staff/ or any
app's staff pages (``/<app>/staff/...``, e.g. /certificates/staff/) is sent

- to set up TOTP (allauth's ``mfa_activate_totp``) when it has no authenticator yet;
- to confirm a code (allauth's ``mfa_reauthenticate``) when it has one but this
  session was not authenticated with it (e.g. a session older than the setup, or
  one that skipped the MFA stage).

allauth records each authentication step in the session; an "mfa" record for this
user is the proof. The check is a middleware, so it covers every admin URL
(including ones added later) and there is no path around it.
"""

import re

from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

# /admin/…, /staff/…, and /<app>/staff/… (staff pages kept in their own app).
_SETUP_MESSAGE = _(
    "職員の方は、管理画面を開く前に多要素認証（認証アプリ）の設定が必要です。認証アプリでQRコードを読み取り、表示された6桁のコードを入力してください。"
)
_CONFIRM_MESSAGE = _("管理画面を開くには、認証アプリの6桁のコード（またはリカバリーコード）を入力してください。")
PROTECTED = re.compile(r"^/(?:admin|staff)/|^/[^/]+/staff/")
# Leaving must always work.
EXEMPT_PATHS = ("/admin/logout/",)


def session_used_mfa(request: HttpRequest, user) -> bool:
    """True when this session's login included an MFA step by ``user``."""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


def _needs_check(request: HttpRequest) -> bool:
    path = request.path_info
    if not PROTECTED.match(path) or path in EXEMPT_PATHS:
        return False
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


class StaffMFARequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if _needs_check(request):
            user = request.user
            next_query = urlencode({"next": request.get_full_path()})
            if not is_mfa_enabled(user):
                messages.info(request, _SETUP_MESSAGE)
                return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{next_query}")
            if not session_used_mfa(request, user):
                messages.info(request, _CONFIRM_MESSAGE)
                return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{next_query}")
        return self.get_response(request)
