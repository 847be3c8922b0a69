from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/confirm/", views.import_confirm, name="confirm"),
    path("<int:pk>/restart/", views.import_restart, name="restart"),
    path("<int:pk>/errors.csv", views.import_errors_csv, name="errors_csv"),
    path("samples/<str:kind>.csv", views.sample_csv, name="sample"),
]
