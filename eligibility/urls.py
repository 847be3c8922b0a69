import os

from django.conf import settings
from django.urls import path

from . import views

app_name = "eligibility"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("link/", views.link, name="link"),
    path("person/<int:pk>/card/", views.card_facts, name="card_facts"),
    path("calendar.ics", views.calendar, name="calendar"),
    path("guides/", views.guide_index, name="guide_index"),
    path("guides/<slug:slug>/", views.guide, name="guide"),
]

# A bare page for bench/dashboard.py to compare the dashboard with; never on by default.
# It shows a person by id to anyone, so production never has it.
if not settings.PRODUCTION and (
    getattr(settings, "KENPO_BENCH_VIEWS", False) or os.environ.get("KENPO_BENCH_VIEWS") == "1"
):
    from . import bench_views

    urlpatterns.append(path("bench/bare/<int:pk>/", bench_views.bare, name="bench_bare"))
