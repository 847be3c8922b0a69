"""The member's pages (加入者のページ), by area. Each list keeps the URL names it always
had (``eligibility:dashboard``, ``certificates:request_start`` …): ``kenpo_portal.urls``
mounts them under those namespaces, so paths, bookmarks and every ``reverse`` still work.
"""

import os

from django.conf import settings
from django.urls import path

from .views import access_log, household, notices, reminders, requests

# /my/ — namespace "eligibility"
household_urls = [
    path("", household.dashboard, name="dashboard"),
    path("link/", household.link, name="link"),
    path("person/<int:pk>/card/", household.card_facts, name="card_facts"),
    path("calendar.ics", household.calendar, name="calendar"),
    path("guides/", household.guide_index, name="guide_index"),
    path("guides/<slug:slug>/", household.guide, name="guide"),
]

# /my/access/ — namespace "audit"
access_log_urls = [
    path("", access_log.access_log, name="access_log"),
]

# /my/notices/ — namespace "notices"
notice_urls = [
    path("", notices.index, name="index"),
    path("<int:pk>/pdf/", notices.download, name="download"),
]

# /certificates/ — namespace "certificates" (with staff.urls.certificate_urls)
request_urls = [
    path("request/<int:person_id>/", requests.request_start, name="request_start"),
    path("request/<int:person_id>/<slug:reason>/", requests.request_form, name="request_form"),
    path("requests/", requests.request_list, name="request_list"),
    path("requests/<int:pk>/", requests.request_detail, name="request_detail"),
    path("requests/<int:pk>/withdraw/", requests.request_withdraw, name="request_withdraw"),
]

# /reminders/ — namespace "reminders"
reminder_urls = [
    path("<int:pk>/dismiss", reminders.dismiss, name="dismiss"),
    path("email", reminders.email_preference, name="email_preference"),
]

# A bare page for bench/dashboard.py to compare the dashboard with; never on by default.
# It shows a person by id to anyone, so production never has it.
if not settings.PRODUCTION and (
    getattr(settings, "KENPO_BENCH_VIEWS", False) or os.environ.get("KENPO_BENCH_VIEWS") == "1"
):
    from . import bench_views

    household_urls.append(path("bench/bare/<int:pk>/", bench_views.bare, name="bench_bare"))
