from django.urls import include, path

from . import employers, views

app_name = "staff"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("imports/", include("imports.urls")),
    path("exports/", include("exports.urls")),
    path("employers/", employers.employer_list, name="employer_list"),
    path("employers/<int:pk>/", employers.employer_detail, name="employer_detail"),
    path("employers/<int:pk>/repost/", employers.employer_repost, name="employer_repost"),
]
