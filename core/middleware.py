"""Two things every signed-in request does.

``NoStoreForLoggedInMiddleware``: responses to a logged-in user are never stored by a
browser or a proxy.

Member pages, the .ics calendar, PDFs, CSV exports and every admin page carry
personal data: on a shared computer the back button or the disk cache must not
show them to the next person. ``Cache-Control: no-store`` (with Django's
never-cache set: no-cache, must-revalidate, private, max-age=0) on every response
to an authenticated request, whatever the view set before.
"""

from django.http import HttpRequest
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers


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
    LocaleMiddleware and AuthenticationMiddleware; one write per session and change."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language()
        if user is not None and user.is_authenticated and language and hasattr(request, "session"):
            if request.session.get(LANGUAGE_SESSION_KEY) != language:
                from .email import remember_language

                remember_language(user_id=user.pk, language=language)
                request.session[LANGUAGE_SESSION_KEY] = language
        return response
