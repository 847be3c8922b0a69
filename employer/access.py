"""The one gate of every employer page: a contact's login, an MFA-verified session, and
(for pages of one 事業所) one of the contact's own 事業所.

Staff and members get 403 here; a contact gets 403 on every other page of the site
(``middleware.EmployerContactConfinedMiddleware``). Like staff, a contact sets up TOTP at
the first sign-in and passes it on every sign-in (``core.mfa``, as the staff gate).
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
from eligibility.contacts import contact_for, employer_for_contact

# Set on every view that went through the gate; the URL walk in employer/tests checks it.
MARK = "kenpo_employer_gate"
SETUP_MESSAGE = _("事業所担当者の方は、最初に多要素認証（認証アプリ）の設定が必要です。認証アプリでQRコードを読み取り、表示された6桁のコードを入力してください。")
CONFIRM_MESSAGE = _("続けるには、認証アプリの6桁のコード（またはリカバリーコード）を入力してください。")


def _mfa_redirect(request: HttpRequest) -> HttpResponseRedirect | None:
    next_query = urlencode({"next": request.get_full_path()})
    if not is_mfa_enabled(request.user):
        messages.info(request, SETUP_MESSAGE)
        return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{next_query}")
    if not session_used_mfa(request, request.user):
        messages.info(request, CONFIRM_MESSAGE)
        return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{next_query}")
    return None


def contact_required(view):
    """An active contact with an MFA-verified session; ``request.contact`` is set, and
    ``employer_id`` in the URL becomes ``employer`` (one of the contact's own, else 404)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("account_login"))
        contact = contact_for(request.user)
        if contact is None:
            raise PermissionDenied
        redirect = _mfa_redirect(request)
        if redirect is not None:
            return redirect
        request.contact = contact
        if "employer_id" in kwargs:
            kwargs["employer"] = employer_for_contact(contact, kwargs.pop("employer_id"))
        return view(request, *args, **kwargs)

    setattr(wrapper, MARK, True)
    return wrapper
