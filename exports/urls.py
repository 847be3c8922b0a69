from django.urls import path

from . import views

app_name = "exports"
urlpatterns = [
    path("start/<str:kind>/<str:encoding>/", views.export_start, name="start"),
    path("<int:pk>/", views.export_detail, name="detail"),
    path("<int:pk>/download/", views.export_download, name="download"),
]
