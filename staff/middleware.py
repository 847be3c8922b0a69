"""The nets behind the staff pages' gate (``staff.access``).

``StaffMFARequiredMiddleware``: a staff login (is_staff or is_superuser) asking for
/admin/, /staff/ or any app's staff pages (``/<app>/staff/...``) is sent to set up
TOTP or to confirm a code first, even if a view forgot ``staff_required``. Every
staff view is wrapped by the gate itself (proved by the URL walk in
``staff/tests/test_gate.py``); this catches a view added without it.

``AdminSearchGuardMiddleware``: a search box's text is sent in the URL (GET). A
query string holding a My Number (RULES.md R9) is refused before any view, list,
audit entry or log line sees it: the visitor is sent back to the same page without
it, with a message. On staff pages every method is checked; elsewhere the query
string of a POST (R9: "any query string a POST carries"). A POST refused so is never
carried out — the redirect is a GET — so a refused filter stops an action instead of
widening it to the whole list (issue 24: issue-all ran over everyone while the record
said a search was applied). A NUL character in a staff page's query string is refused
the same way (PostgreSQL cannot compare with it: it was a 500).
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
NUL_REFUSED = _("検索・絞り込みの条件に使えない文字が含まれているため、その条件を外しました。")


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


def _refused_keys(query, *, staff_page: bool) -> tuple[list[str], bool]:
    """The query string's keys to drop, and whether a My Number (not only a NUL) was among them."""
    refused, my_number = [], False
    for key, values in query.lists():
        if any(contains_my_number(text) for text in (key, *values)):
            refused.append(key)
            my_number = True
        elif staff_page and any("\x00" in text for text in (key, *values)):
            refused.append(key)
    return refused, my_number


class AdminSearchGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        staff_page = bool(PROTECTED.match(request.path_info))
        if request.GET and (staff_page or request.method == "POST"):
            refused, my_number = _refused_keys(request.GET, staff_page=staff_page)
            if refused:
                if request.path_info.endswith("/autocomplete/"):
                    return JsonResponse({"results": [], "pagination": {"more": False}}, status=400)
                kept = request.GET.copy()
                for key in refused:
                    del kept[key]
                messages.error(request, SEARCH_REFUSED if my_number else NUL_REFUSED)
                query = kept.urlencode()
                return HttpResponseRedirect(request.path + (f"?{query}" if query else ""))
        return self.get_response(request)
