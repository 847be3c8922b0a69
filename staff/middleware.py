"""The nets behind the staff pages' gate (``staff.access``).

``StaffMFARequiredMiddleware``: a staff login (is_staff or is_superuser) asking for
/admin/, /staff/ or any app's staff pages (``/<app>/staff/...``) is sent to set up
TOTP or to confirm a code first, even if a view forgot ``staff_required``. Every
staff view is wrapped by the gate itself (proved by the URL walk in
``staff/tests/test_gate.py``); this catches a view added without it.

``AdminSearchGuardMiddleware``: a search box's text is sent in the URL (GET). A
search holding a My Number (RULES.md R9) is refused before any view, list, audit
entry or log line sees it: the visitor is sent back to the same page without it,
with a message.
"""

import re

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.utils.translation import gettext_lazy as _

from core.mynumber import contains_my_number

from .access import is_staff_login, mfa_redirect

PROTECTED = re.compile(r"^/(?:admin|staff)/|^/[^/]+/staff/")
# Leaving must always work.
EXEMPT_PATHS = ("/admin/logout/",)
SEARCH_REFUSED = _("検索語に個人番号（マイナンバー）のような12桁の数字が含まれているため、検索しませんでした。")


def _needs_check(request: HttpRequest) -> bool:
    path = request.path_info
    if not PROTECTED.match(path) or path in EXEMPT_PATHS:
        return False
    return is_staff_login(getattr(request, "user", None))


class StaffMFARequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if _needs_check(request):
            redirect = mfa_redirect(request)
            if redirect is not None:
                return redirect
        return self.get_response(request)


class AdminSearchGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if PROTECTED.match(request.path_info) and request.method in ("GET", "HEAD"):
            refused = [key for key, values in request.GET.lists() if any(contains_my_number(v) for v in values)]
            if refused:
                if request.path_info.endswith("/autocomplete/"):
                    return JsonResponse({"results": [], "pagination": {"more": False}}, status=400)
                kept = request.GET.copy()
                for key in refused:
                    del kept[key]
                messages.error(request, SEARCH_REFUSED)
                query = kept.urlencode()
                return HttpResponseRedirect(request.path + (f"?{query}" if query else ""))
        return self.get_response(request)
