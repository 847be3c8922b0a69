"""The dashboard's frame — ``base.html`` around its content: header, menu, language switch,
footer — rendered once per process, language and society details, and filled in per page.

For a member's login the frame of the dashboard is the same on every page: the menu of a
member, the CSRF placeholder the cached page carries anyway (``dashboard_cache``), the
society's contact details (themselves read once a minute: ``eligibility.contact``). With
many members each opening the page once, rendering it again was a third of the page's
template time (issue 26). A page with a one-off message, a staff login with a link, or a
query string gets its frame rendered as before.
"""

import time

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from eligibility import contact

TEMPLATE = "member/dashboard.html"
_CONTENT = mark_safe("KENPO-DASHBOARD-CONTENT-8f3a")
_TTL = 60.0  # as eligibility.contact's society
_frames: dict[tuple, tuple[float, str]] = {}


def _society_key() -> tuple | None:
    society = contact.society()
    if society is None:
        return None
    return (society.pk, society.name, society.phone, society.hours, society.address)


def page(request, *, language: str, content: str, shared: bool, csrf_token: str) -> str:
    """``content`` in the dashboard's frame; ``shared``: the frame may come from (and go to)
    this process's memory (no message, a member's login, no query string)."""
    context = {"content": _CONTENT, "csrf_token": csrf_token}
    if not shared:
        frame = render_to_string(TEMPLATE, context, request)
    else:
        key = (language, request.path, _society_key())
        now = time.monotonic()
        cached = _frames.get(key)
        if cached is None or now - cached[0] > _TTL:
            cached = _frames[key] = (now, render_to_string(TEMPLATE, context, request))
        frame = cached[1]
    before, after = frame.split(_CONTENT)
    return before + content + after
