"""URLs for bench/morning.py: the site's, plus the bare view (one primary-key query and a
one-line template, ``member.bench_views.bare``: issue 12's floor). Only ever routed by
``bench.morning_settings``; never in a deployment (the bare view shows anyone's name)."""

from django.urls import include, path

from member import bench_views

urlpatterns = [
    path("bench/bare/<int:pk>/", bench_views.bare),
    path("", include("kenpo_portal.urls")),
]
