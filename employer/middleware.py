"""A contact's login reaches the employer pages and its own sign-in pages, nothing else
(member pages, staff pages, the admin): RULES.md R12. One check, before any view.

``request.contact`` is the active employer contact behind the login (or None), read
lazily: the site's menu shows a contact its own pages. Whether a login is a contact is
asked of the database once per session (``SESSION_KEY``, at sign-in), not on every member
request: a removed contact's login is deactivated, which ends its sessions.
"""

import re

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from eligibility.contacts import contact_for

# Signing in and out, password and TOTP, the language switch, health and static files.
ALLOWED = re.compile(
    r"^/(?:employer/|accounts/(?:login|logout|password|2fa|reauthenticate|confirm-email)|i18n/|healthz|static/)"
)


SESSION_KEY = "kenpo_employer_contact"


def remember_at_sign_in(*, sender=None, request, user, **kwargs) -> None:
    """``user_logged_in``: whether the login is a contact is asked at sign-in (a POST), so
    the first page read after it neither queries it nor writes the session (issue 26)."""
    request.session[SESSION_KEY] = contact_for(user) is not None


def _is_contact(request: HttpRequest, user) -> bool:
    known = request.session.get(SESSION_KEY)
    if known is None:
        known = request.session[SESSION_KEY] = contact_for(user) is not None
    return bool(known)


class EmployerContactConfinedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_staff:
            request.contact = None
            return self.get_response(request)
        if not _is_contact(request, user):
            request.contact = None
            return self.get_response(request)
        request.contact = SimpleLazyObject(lambda: contact_for(user))
        if not ALLOWED.match(request.path_info) and request.contact:
            if request.path_info in ("/", resolve_url(settings.LOGIN_REDIRECT_URL)):
                # The site's home and where a sign-in lands by default: the contact's own pages.
                return HttpResponseRedirect(reverse("employer:home"))
            raise PermissionDenied
        return self.get_response(request)
