"""Staff pages outside the admin's model lists: the dashboard (業務ダッシュボード)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from certificates.models import ExOfficioProposal

from ..access import staff_required
from ..chart import chart
from ..dashboard import dashboard_summary
from ..figures import dashboard_figures

# Every staff role may read persons; the dashboard shows counts of them.
DASHBOARD_PERMISSION = "eligibility.view_person"


@staff_required(DASHBOARD_PERMISSION)
def dashboard(request: HttpRequest) -> HttpResponse:
    summary = dashboard_summary()
    if summary is None:  # never counted yet: a worker is counting
        return render(request, "staff/dashboard_counting.html", {
            **admin.site.each_context(request), "title": _("業務ダッシュボード"), "refresh_seconds": 10,
        })
    figures = dashboard_figures(summary)
    return render(request, "staff/dashboard.html", {
        **admin.site.each_context(request),
        "title": _("業務ダッシュボード"),
        "summary": figures,
        "chart": chart(figures.months),
        "can_import": request.user.has_perm("imports.run_import"),
        # The month's routine: the last proposal of the monthly job (a fact of its day, not a count of today's list).
        "proposal": ExOfficioProposal.objects.order_by("-created_at").first(),
    })
