from django.urls import include, path

from . import approvals, views

app_name = "staff"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("imports/", include("imports.urls")),
    path("exports/", include("exports.urls")),
    path("approvals/", approvals.approval_list, name="approvals"),
    path("approvals/<int:pk>/decide/", approvals.approval_decide_view, name="approval_decide"),
]
