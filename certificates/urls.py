from django.urls import path

from . import views

app_name = "certificates"
urlpatterns = [
    path("request/<int:person_id>/", views.request_start, name="request_start"),
    path("request/<int:person_id>/<slug:reason>/", views.request_form, name="request_form"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("staff/requests/", views.review_queue, name="review_queue"),
    path("staff/requests/<int:pk>/", views.review_detail, name="review_detail"),
    path("staff/requests/<int:pk>/approve/", views.review_approve, name="review_approve"),
    path("staff/requests/<int:pk>/reject/", views.review_reject, name="review_reject"),
    path("staff/batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("staff/batches/<int:pk>/retry/", views.batch_retry, name="batch_retry"),
    path("staff/batches/<int:pk>/mark/", views.batch_mark, name="batch_mark"),
    path("staff/certificates/<int:pk>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    path("staff/print-files/<int:pk>/pdf/", views.print_file_pdf, name="print_file_pdf"),
]
