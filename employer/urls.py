from django.urls import path

from . import views

app_name = "employer"
urlpatterns = [
    path("", views.home, name="home"),
    path("invite/<str:uidb64>/<str:token>/", views.accept, name="accept"),
    path("<int:employer_id>/", views.employer_page, name="employer"),
    path("<int:employer_id>/packets/<int:pk>/", views.packet_page, name="packet"),
    path("<int:employer_id>/packets/<int:pk>/list.csv", views.packet_csv, name="packet_csv"),
    path("<int:employer_id>/packets/<int:pk>/list.pdf", views.packet_pdf, name="packet_pdf"),
    path("<int:employer_id>/apply/", views.apply_find, name="apply_find"),
    path("<int:employer_id>/apply/<int:person_id>/", views.apply_reason, name="apply_reason"),
    path("<int:employer_id>/apply/<int:person_id>/<slug:reason>/", views.apply_details, name="apply_details"),
    path("<int:employer_id>/collections/", views.collections, name="collections"),
    path("<int:employer_id>/collections/record/", views.collection_record, name="collection_record"),
]
