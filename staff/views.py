"""Staff pages outside the admin's model lists: the dashboard (業務ダッシュボード)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.access import staff_required

from .dashboard import chart, dashboard_summary

# Every staff role may read persons; the dashboard shows counts of them.
DASHBOARD_PERMISSION = "eligibility.view_person"


@staff_required(DASHBOARD_PERMISSION)
def dashboard(request: HttpRequest) -> HttpResponse:
    summary = dashboard_summary()
    return render(request, "staff/dashboard.html", {
        **admin.site.each_context(request),
        "title": _("業務ダッシュボード"),
        "summary": summary,
        "chart": chart(summary.months),
        "can_import": request.user.has_perm("imports.run_import"),
    })
