"""One gate for every staff page (staff.access): staff login + MFA-verified session + role.

Walks the URL resolver: every admin view and every staff view of any app went through
the gate, and calling it directly (without the middleware net) with a staff session
that skipped MFA sends that session to the second factor.
"""

import re

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from staff.access import MARK
from staff.admin_site import StaffAdminSite
from staff.roles import MANAGER
from staff.testing import make_staff

pytestmark = pytest.mark.django_db

# The login page is the way in; nothing else is exempt.
NOT_GATED = {"admin/login/"}


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def staff_routes():
    return [(route, view) for route, view in _patterns()
            if (route.startswith("admin/") or "staff/" in route) and route not in NOT_GATED]


def test_the_walk_finds_the_staff_pages():
    routes = {route for route, _view in staff_routes()}
    assert "staff/" in routes
    assert "admin/" in routes
    assert any(r.startswith("certificates/staff/") for r in routes)
    assert any(r.startswith("staff/imports/") for r in routes)
    assert any("lookup/" in r for r in routes)  # a ModelAdmin's custom view


def _gated(view) -> bool:
    if getattr(view, MARK, False):
        return True
    # The admin's own URLs call ``admin_site.admin_view`` at request time (Django's ``wrap``).
    site = getattr(view, "admin_site", None) or getattr(getattr(view, "model_admin", None), "admin_site", None)
    return isinstance(site, StaffAdminSite)


@pytest.mark.parametrize(("route", "view"), staff_routes(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_staff_view_goes_through_the_gate(route, view):
    assert _gated(view), f"/{route} is not wrapped by staff.access (staff_required / admin_view)"


def _dummy_kwargs(route):
    kwargs = {name: "1" for name in re.findall(r"<(?:int:|path:|str:|slug:)?(\w+)>", route)}
    kwargs.update({name: "1" for name in re.findall(r"\(\?P<(\w+)>", route)})
    return {k: (1 if f"<int:{k}>" in route else v) for k, v in kwargs.items()}


def test_every_staff_view_itself_demands_mfa(django_user_model):
    """Without the middleware: the gate alone sends a staff session without MFA away."""
    user = make_staff(role=MANAGER, email="m@kenpo.example.jp")
    factory = RequestFactory()
    for route, view in staff_routes():
        if route == "admin/logout/":
            continue
        request = factory.get("/" + route)
        request.user = user
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        response = view(request, **_dummy_kwargs(route))
        assert response.status_code == 302, route
        assert "/accounts/2fa/" in response["Location"] or "/reauthenticate" in response["Location"], route
