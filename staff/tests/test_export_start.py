"""Starting an export: only a POST starts a job, and a login cannot flood the workers (issue 24, 8)."""

import pytest
from django.urls import reverse

from exports.models import ExportJob

pytestmark = pytest.mark.django_db


def _start_url() -> str:
    return reverse("staff:exports:start", args=["ex_officio", "utf8"]) + "?age=70-74"


def test_a_get_shows_a_button_and_starts_nothing(client, clerk):
    response = client.get(_start_url())
    assert response.status_code == 200 and "CSV出力を開始する" in response.content.decode()
    assert 'method="post"' in response.content.decode()
    assert not ExportJob.objects.exists()


def test_the_post_starts_the_job_with_the_filter(client, clerk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(_start_url())
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("staff:exports:detail", args=[job.pk])
    assert job.params["query"] == "age=70-74"


def test_a_login_has_at_most_three_unfinished_exports(client, clerk, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the jobs stay queued
        for _ in range(5):
            response = client.post(_start_url())
    assert ExportJob.objects.count() == settings.KENPO_EXPORT_MAX_UNFINISHED == 3
    assert response["Location"] == reverse("admin:certificates_exofficiocandidate_changelist")


def test_a_login_starts_at_most_the_hourly_limit(client, clerk, settings, django_capture_on_commit_callbacks):
    settings.KENPO_EXPORT_MAX_PER_HOUR = 4
    settings.KENPO_EXPORT_MAX_UNFINISHED = 100
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(6):
            client.post(_start_url())
    assert ExportJob.objects.count() == 4
