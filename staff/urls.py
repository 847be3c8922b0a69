"""The staff pages outside the admin's model lists (職員のページ): the dashboard, imports and
exports under /staff/ (namespace "staff"), and the certificates' review, batches and
downloads under /certificates/staff/ (``certificate_urls``: namespace "certificates",
mounted by ``kenpo_portal.urls`` beside the member's requests, as they always were).
Every view passes the staff gate (``staff.access``). The admin site is ``admin_site``.
"""

from django.urls import include, path

from .views import certificates, dashboard, employers, exports, imports

import_urls = ([
    path("", imports.import_list, name="list"),
    path("<int:pk>/", imports.import_detail, name="detail"),
    path("<int:pk>/confirm/", imports.import_confirm, name="confirm"),
    path("<int:pk>/restart/", imports.import_restart, name="restart"),
    path("<int:pk>/errors.csv", imports.import_errors_csv, name="errors_csv"),
    path("samples/<str:kind>.csv", imports.sample_csv, name="sample"),
], "imports")

export_urls = ([
    path("start/<str:kind>/<str:encoding>/", exports.export_start, name="start"),
    path("<int:pk>/", exports.export_detail, name="detail"),
    path("<int:pk>/download/", exports.export_download, name="download"),
], "exports")

app_name = "staff"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("imports/", include(import_urls)),
    path("exports/", include(export_urls)),
    path("employers/", employers.employer_list, name="employer_list"),
    path("employers/<int:pk>/", employers.employer_detail, name="employer_detail"),
    path("employers/<int:pk>/repost/", employers.employer_repost, name="employer_repost"),
]

# /certificates/ — namespace "certificates" (with member.urls.request_urls)
certificate_urls = [
    path("staff/requests/", certificates.review_queue, name="review_queue"),
    path("staff/requests/<int:pk>/", certificates.review_detail, name="review_detail"),
    path("staff/requests/<int:pk>/approve/", certificates.review_approve, name="review_approve"),
    path("staff/requests/<int:pk>/reject/", certificates.review_reject, name="review_reject"),
    path("staff/batches/<int:pk>/", certificates.batch_detail, name="batch_detail"),
    path("staff/batches/<int:pk>/retry/", certificates.batch_retry, name="batch_retry"),
    path("staff/batches/<int:pk>/mark/", certificates.batch_mark, name="batch_mark"),
    path("staff/certificates/<int:pk>/pdf/", certificates.certificate_pdf, name="certificate_pdf"),
    path("staff/print-files/<int:pk>/pdf/", certificates.print_file_pdf, name="print_file_pdf"),
    path("staff/print-files/make-daily/", certificates.daily_print_files_make, name="daily_print_files_make"),
    path("staff/certificates/void/", certificates.certificate_void, name="certificate_void"),
    path("staff/persons/<int:pk>/certificates/", certificates.person_certificates, name="person_certificates"),
    path("staff/persons/<int:pk>/certificates/issue/", certificates.person_issue, name="person_issue"),
    path("staff/persons/<int:pk>/paper-application/", certificates.paper_application, name="paper_application"),
]
