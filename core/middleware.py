"""Three things every signed-in request does.

``IdleTimeoutMiddleware``: a session left unused for ``KENPO_IDLE_TIMEOUT_MINUTES``
(``KENPO_STAFF_IDLE_TIMEOUT_MINUTES`` for a staff login) is logged out at its next
request, which is sent to the login page (issue 24, 11: sessions lasted 8 hours with no
idle limit; ``SESSION_COOKIE_AGE`` stays the absolute limit). The last activity is
written to the session at most once a minute.

``NoStoreForLoggedInMiddleware``: responses to a logged-in user are never stored by a
browser or a proxy.

Member pages, the .ics calendar, PDFs, CSV exports and every admin page carry
personal data: on a shared computer the back button or the disk cache must not
show them to the next person. ``Cache-Control: no-store`` (with Django's
never-cache set: no-cache, must-revalidate, private, max-age=0) on every response
to an authenticated request, whatever the view set before.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext_lazy as _


class NoStoreForLoggedInMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if "Cache-Control" in response:
                del response["Cache-Control"]  # a view's "public, max-age" must not win
            add_never_cache_headers(response)
            patch_vary_headers(response, ("Cookie",))
        return response


LANGUAGE_SESSION_KEY = "_kenpo_language"


class RememberLanguageMiddleware:
    """The language a signed-in login uses, remembered so e-mails sent later (by a worker,
    outside any request) are written in it (``core.email.languages_of``). After
    LocaleMiddleware and AuthenticationMiddleware; one write per session and change.

    Only a request that changes something writes it — signing in (a POST), the language
    switch (a POST whose response sets the language cookie: that language, not the one
    the request came in) or any form — never a GET: the member's busiest page, opened once
    by many members, must not wait on a commit (issue 26)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return response
        user = getattr(request, "user", None)
        switched = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
        language = (switched.value if switched is not None and switched.value else None) or getattr(
            request, "LANGUAGE_CODE", None) or translation.get_language()
        if user is not None and user.is_authenticated and language and hasattr(request, "session"):
            if request.session.get(LANGUAGE_SESSION_KEY) != language:
                from .email import remember_language

                remember_language(user_id=user.pk, language=language)
                request.session[LANGUAGE_SESSION_KEY] = language
        return response


LAST_ACTIVITY_SESSION_KEY = "_kenpo_last_activity"
IDLE_MESSAGE = _("しばらく操作がなかったため、安全のためログアウトしました。もう一度ログインしてください。")


def idle_limit_seconds(user) -> int:
    staff = user.is_staff or user.is_superuser
    minutes = settings.KENPO_STAFF_IDLE_TIMEOUT_MINUTES if staff else settings.KENPO_IDLE_TIMEOUT_MINUTES
    return minutes * 60


def start_idle_clock(*, sender=None, request, **kwargs) -> None:
    """``user_logged_in``: a session's clock starts at sign-in (a POST), so the first page
    read after it has nothing to write (issue 26: no write on a GET)."""
    request.session[LAST_ACTIVITY_SESSION_KEY] = int(time.time())


class IdleTimeoutMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_SESSION_KEY)
            if isinstance(last, int) and now - last > idle_limit_seconds(user):
                logout(request)
                messages.info(request, IDLE_MESSAGE)
                return redirect_to_login(request.get_full_path() if request.method == "GET" else request.path)
            if not isinstance(last, int) or now - last >= 60:
                request.session[LAST_ACTIVITY_SESSION_KEY] = now
        return self.get_response(request)


class FactorChangeNeedsFactorMiddleware:
    """allauth's pages that add, remove or reveal a second factor ask for the current one
    first (``core.mfa.factor_change_redirect``). After allauth's AccountMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        from .mfa import factor_change_redirect

        match = getattr(request, "resolver_match", None)
        return factor_change_redirect(request, match.url_name if match else None)
