"""The error pages (404, 403, CSRF, 400, 500): in the site's layout, in Japanese and
English, with the society's contact, and nothing else.

They never echo the URL, the exception or the CSRF reason (a path may hold an id, a
message may hold personal data). They render without a request context: no context
processor, session or user lookup can fail while an error is being shown. The
society's name and phone come from the database when it answers, else from the
settings (``KENPO_CONTACT_NAME`` / ``KENPO_CONTACT_PHONE``).
"""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.templatetags.static import static
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    500: "errors/500.html",
}


def contact() -> dict:
    """The society's name and phone: from the one contact lookup (eligibility.contact) if
    the database answers, else the settings. An error page must render whatever failed."""
    fallback = {"name": settings.KENPO_CONTACT_NAME, "phone": settings.KENPO_CONTACT_PHONE}
    try:
        from eligibility.contact import society as current_society

        society = current_society()
    except Exception:
        return fallback
    if society is None:
        return fallback
    return {"name": society.name, "phone": society.phone or fallback["phone"]}


def _stylesheet() -> str | None:
    try:
        return static("css/portal.css")
    except Exception:
        return None


def render_error(status: int, *, template: str | None = None) -> HttpResponse:
    context = {
        "status": status,
        "contact": contact(),
        "stylesheet": _stylesheet(),
        "LANGUAGE_CODE": get_language() or settings.LANGUAGE_CODE,
    }
    try:
        body = loader.get_template(template or PAGES[status]).render(context)
    except Exception:  # a broken template must still give the visitor a page
        logger.exception("the error page %s could not be rendered", status)
        body = "<!DOCTYPE html><title>Error</title><p>エラーが発生しました。 / An error occurred.</p>"
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return render_error(400)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return render_error(403)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return render_error(404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render_error(500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render_error(403, template="errors/csrf.html")


class MFAKeyMismatchMiddleware:
    """A staff login whose TOTP secret no configured key decrypts gets a page saying so
    (503: the site is misconfigured, not the visitor), and the log one line that tells
    the operator what to do — not a 500 with a traceback (issue 24, 10)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from core.adapters import MFAKeyMismatch

        if not isinstance(exception, MFAKeyMismatch):
            return None
        logger.error("An MFA secret does not decrypt with KENPO_MFA_ENCRYPTION_KEY (database restored under "
                     "another key?): set the old key after the new one and run manage.py rotate_mfa_key")
        return render_error(503, template="errors/mfa_key.html")
