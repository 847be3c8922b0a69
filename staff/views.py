"""Staff pages outside the admin's model lists: the dashboard (業務ダッシュボード)."""

from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from .dashboard import chart, dashboard_summary

# Every staff role may read persons; the dashboard shows counts of them.
DASHBOARD_PERMISSION = "eligibility.view_person"


def staff_permission_required(permission: str):
    """Staff holding ``permission`` only: others get 403, anonymous users the admin login."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            if not (request.user.is_active and request.user.is_staff and request.user.has_perm(permission)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@staff_permission_required(DASHBOARD_PERMISSION)
def dashboard(request: HttpRequest) -> HttpResponse:
    summary = dashboard_summary()
    return render(request, "staff/dashboard.html", {
        **admin.site.each_context(request),
        "title": _("業務ダッシュボード"),
        "summary": summary,
        "chart": chart(summary.months),
        "can_import": request.user.has_perm("imports.run_import"),
    })
