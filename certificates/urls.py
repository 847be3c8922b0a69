from django.urls import path

from .views import member, staff

app_name = "certificates"
urlpatterns = [
    path("request/<int:person_id>/", member.request_start, name="request_start"),
    path("request/<int:person_id>/<slug:reason>/", member.request_form, name="request_form"),
    path("requests/", member.request_list, name="request_list"),
    path("requests/<int:pk>/", member.request_detail, name="request_detail"),
    path("requests/<int:pk>/withdraw/", member.request_withdraw, name="request_withdraw"),
    path("staff/requests/", staff.review_queue, name="review_queue"),
    path("staff/requests/<int:pk>/", staff.review_detail, name="review_detail"),
    path("staff/requests/<int:pk>/approve/", staff.review_approve, name="review_approve"),
    path("staff/requests/<int:pk>/reject/", staff.review_reject, name="review_reject"),
    path("staff/batches/<int:pk>/", staff.batch_detail, name="batch_detail"),
    path("staff/batches/<int:pk>/retry/", staff.batch_retry, name="batch_retry"),
    path("staff/batches/<int:pk>/mark/", staff.batch_mark, name="batch_mark"),
    path("staff/certificates/<int:pk>/pdf/", staff.certificate_pdf, name="certificate_pdf"),
    path("staff/print-files/<int:pk>/pdf/", staff.print_file_pdf, name="print_file_pdf"),
    path("staff/print-files/make-daily/", staff.daily_print_files_make, name="daily_print_files_make"),
    path("staff/certificates/void/", staff.certificate_void, name="certificate_void"),
    path("staff/persons/<int:pk>/certificates/", staff.person_certificates, name="person_certificates"),
    path("staff/persons/<int:pk>/certificates/issue/", staff.person_issue, name="person_issue"),
    path("staff/persons/<int:pk>/paper-application/", staff.paper_application, name="paper_application"),
]
