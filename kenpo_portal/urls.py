from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from member import urls as member
from staff import urls as staff

from . import views

# The admin login goes through allauth, so e-mail verification, rate limits and
# MFA apply to staff too: there is no second, weaker login form.
admin.autodiscover()
admin.site.login = secure_admin_login(admin.site.login)

# Two doors (surfaces) over one domain: the member's pages (member/) and the staff's
# (staff/, with the admin). The namespaces are the ones every URL name always had.
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/web", views.healthz_web, name="healthz-web"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("my/", include((member.household_urls, "eligibility"))),
    path("my/access/", include((member.access_log_urls, "audit"))),
    path("my/notices/", include((member.notice_urls, "notices"))),
    path("certificates/", include((member.request_urls + staff.certificate_urls, "certificates"))),
    path("reminders/", include((member.reminder_urls, "reminders"))),
    path("staff/", include("staff.urls")),
    path("employer/", include("employer.urls")),
    path("admin/", admin.site.urls),
]

# Our error pages (kenpo_portal.errors): the site's layout, both languages, the contact.
handler400 = "kenpo_portal.errors.bad_request"
handler403 = "kenpo_portal.errors.permission_denied"
handler404 = "kenpo_portal.errors.page_not_found"
handler500 = "kenpo_portal.errors.server_error"
