"""The audit log exported by a background job (with its page's progress bar), in the
admin's words, for the filter on screen; the admin list words roles and object types."""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import record
from exports.models import ExportJob
from staff.roles import CLERK, MANAGER
from staff.testing import login_with_mfa, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client, eager_tasks):
    user = make_staff(role=MANAGER, email="manager@kenpo.example.jp")
    login_with_mfa(client, user)
    return user


def test_a_manager_exports_the_filtered_log_as_a_job(client, manager, alice_person,
                                                    django_capture_on_commit_callbacks):
    record(action="view", actor=None, obj=alice_person, summary="加入者を閲覧")
    record(action="change", actor=None, obj=alice_person, summary="加入者を変更")
    listed = client.get(reverse("admin:audit_auditentry_changelist")).content.decode()
    assert reverse("staff:exports:start", args=["audit_log", "utf8"]) in listed

    start = reverse("staff:exports:start", args=["audit_log", "utf8"]) + "?action__exact=change"
    assert client.get(start).status_code == 200  # a page with one button: only its POST starts the job
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(start)
    job = ExportJob.objects.get(kind="audit_log")
    assert response.url == reverse("staff:exports:detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.rows_total, job.rows_written) == ("done", 1, 1)
    page = client.get(response.url).content.decode()
    assert 'role="progressbar"' in page or "export-progress" in page
    download = client.get(reverse("staff:exports:download", args=[job.pk]))
    assert f'audit_log-{timezone.localdate():%Y-%m-%d}-utf8.csv' in download["Content-Disposition"]
    lines = b"".join(download.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("日時,操作,操作者,役割")
    assert len(lines) == 2 and "変更" in lines[1] and "システム（自動処理）" in lines[1] and "加入者" in lines[1]


def test_a_clerk_may_not_export_the_log(client, db):
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@kenpo.example.jp"))
    assert client.get(reverse("staff:exports:start", args=["audit_log", "utf8"])).status_code == 403


def test_a_date_it_cannot_read_sends_staff_back_to_the_list(client, manager):
    response = client.get(reverse("staff:exports:start", args=["audit_log", "utf8"]) + "?at__gte=yesterday")
    assert response.url == reverse("admin:audit_auditentry_changelist")
    assert not ExportJob.objects.exists()


def test_the_log_list_words_roles_and_object_types(client, manager, alice_person):
    record(action="view", actor=None, obj=alice_person, summary="加入者を閲覧")
    entry = AuditEntry.objects.get(summary="加入者を閲覧")
    assert entry.role_words == "システム（自動処理）" and entry.object_type_words == "加入者"
    html = client.get(reverse("admin:audit_auditentry_changelist")).content.decode()
    table = html.split("<tbody>")[1].split("</tbody>")[0]
    assert ">eligibility.Person<" not in table and ">system<" not in table
    assert "<td class=\"field-role\">システム（自動処理）</td>" in table and ">加入者</td>" in table
    html = client.get(reverse("admin:index")).content.decode()
    assert html.count(">監査ログ<") == 0 and "変更履歴（変更前・変更後の値）" in html
