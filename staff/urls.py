from django.urls import include, path

from . import views

app_name = "staff"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("imports/", include("imports.urls")),
    path("exports/", include("exports.urls")),
]
