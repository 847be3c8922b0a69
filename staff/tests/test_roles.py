"""The three staff roles: what each may and may not do in the admin."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from eligibility.models import ActivationCode, Person
from staff.roles import CLERK, MANAGER, ROLES, VIEWER, role_of, sync_roles
from staff.testing import admin_form_data, login_with_mfa, make_staff
from tests.factories import CardFactsFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db):
    person = PersonFactory(family_name="高橋", given_name="和子", family_name_kana="タカハシ", given_name_kana="カズコ")
    CardFactsFactory(person=person)
    return person


@pytest.fixture
def as_role(client):
    def login(role, **kwargs):
        user = make_staff(role=role, email=f"{role_slug(role)}@kenpo.example.jp", **kwargs)
        login_with_mfa(client, user)
        return user

    return login


def role_slug(role):
    return {VIEWER: "viewer", CLERK: "clerk", MANAGER: "manager"}.get(role, "staff")


def perms_of(role):
    group = Group.objects.get(name=role)
    return {f"{ct}.{code}" for ct, code in group.permissions.values_list("content_type__app_label", "codename")}


# --- the table and its sync -------------------------------------------------------

def test_the_migration_created_the_three_roles():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == {VIEWER, CLERK, MANAGER}


def test_sync_roles_is_idempotent():
    first = sync_roles()
    second = sync_roles()
    assert first.granted == second.granted
    assert Group.objects.filter(name=VIEWER).count() == 1


def test_it_tolerates_permissions_that_do_not_exist_yet_and_picks_them_up_later():
    Permission.objects.filter(codename="export_list", content_type__app_label="certificates").delete()
    result = sync_roles()
    assert "certificates.export_list" in result.missing[CLERK]
    assert "certificates.export_list" not in perms_of(CLERK)

    content_type = ContentType.objects.get_or_create(app_label="certificates", model="eligibilitycertificate")[0]
    Permission.objects.create(codename="export_list", name="一覧を出力できる", content_type=content_type)
    call_command("sync_roles", stdout=open("/dev/null", "w"))
    assert "certificates.export_list" in perms_of(CLERK)
    assert "certificates.export_list" not in perms_of(VIEWER)


def test_the_viewer_role_holds_view_permissions_only():
    assert perms_of(VIEWER)
    assert all(code.split(".")[1].startswith("view_") for code in perms_of(VIEWER))


def test_only_the_manager_manages_staff_accounts_and_reads_the_audit_log():
    for role in (VIEWER, CLERK):
        assert not {p for p in perms_of(role) if p.startswith("auth.")}
        assert "audit.view_auditentry" not in perms_of(role)
    assert {"auth.add_user", "auth.change_user", "auth.change_group", "audit.view_auditentry"} <= perms_of(MANAGER)


def test_neither_viewer_nor_clerk_may_delete_persons():
    assert "eligibility.delete_person" not in perms_of(VIEWER) | perms_of(CLERK)


def test_role_of_names_the_most_trusted_role(django_user_model):
    user = make_staff(role=VIEWER, email="two@kenpo.example.jp")
    user.groups.add(Group.objects.get(name=CLERK))
    assert role_of(user) == CLERK
    assert role_of(make_staff(role=None, email="root@kenpo.example.jp", superuser=True)) == MANAGER


# --- the viewer (閲覧) ---------------------------------------------------------------

def test_a_viewer_reads_the_person_list_and_detail(client, as_role, person):
    as_role(VIEWER)
    assert client.get(reverse("admin:eligibility_person_changelist")).status_code == 200
    response = client.get(reverse("admin:eligibility_person_change", args=[person.pk]))
    assert response.status_code == 200
    assert b'name="_save"' not in response.content  # read-only page


def test_a_viewer_cannot_change_a_person(client, as_role, person):
    as_role(VIEWER)
    url = reverse("admin:eligibility_person_change", args=[person.pk])
    response = client.post(url, {"family_name": "改ざん"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.family_name == "高橋"


def test_a_viewer_is_not_offered_the_activation_code_action_and_cannot_post_it(client, as_role, person):
    as_role(VIEWER)
    changelist = reverse("admin:eligibility_person_changelist")
    assert "issue_activation_codes" not in client.get(changelist).content.decode()
    client.post(changelist, {"action": "issue_activation_codes", "_selected_action": [person.pk]})
    assert not ActivationCode.objects.exists()


def test_a_viewer_cannot_open_staff_accounts_or_the_audit_log(client, as_role):
    as_role(VIEWER)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 403


def test_a_viewer_may_not_export_or_download():
    assert not {p for p in perms_of(VIEWER) if "export" in p or "download" in p or p.endswith("run_import")}


# --- the clerk (担当者) ---------------------------------------------------------------

def test_a_clerk_changes_a_person_and_the_change_is_audited(client, as_role, person):
    as_role(CLERK)
    url = reverse("admin:eligibility_person_change", args=[person.pk])
    response = client.post(url, admin_form_data(client.get(url), given_name_kana="カズエ", given_name="和江"))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    person.refresh_from_db()
    assert person.given_name == "和江"
    entry = AuditEntry.objects.get(action="change", object_id=str(person.pk))
    assert entry.actor_role == CLERK
    assert entry.household_id == person.household_id


def test_a_clerk_issues_activation_codes_shown_once(client, as_role, person):
    as_role(CLERK)
    response = client.post(
        reverse("admin:eligibility_person_changelist"),
        {"action": "issue_activation_codes", "_selected_action": [person.pk]},
    )
    assert response.status_code == 200
    assert ActivationCode.objects.filter(person=person).count() == 1
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert "連携コード" in body and "高橋 和子" in body
    # Only the hash is kept: the code shown is nowhere in the database.
    shown = response.context["codes"][0][1]
    assert ActivationCode.objects.get().code_hash != shown
    assert AuditEntry.objects.filter(action="issue", object_id=str(person.pk)).exists()


def test_a_clerk_holds_the_work_permissions_that_exist():
    names = {"certificates.review_request", "certificates.issue_certificate", "certificates.export_list",
             "certificates.download_pdf", "imports.run_import"}
    existing = {f"{a}.{c}" for a, c in Permission.objects.values_list("content_type__app_label", "codename")}
    assert names & existing <= perms_of(CLERK)


def test_a_clerk_cannot_delete_a_person_nor_open_staff_accounts(client, as_role, person):
    as_role(CLERK)
    assert client.get(reverse("admin:eligibility_person_delete", args=[person.pk])).status_code == 403
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403


# --- the manager (管理者) -------------------------------------------------------------

def test_a_manager_manages_staff_accounts(client, as_role):
    as_role(MANAGER)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
    assert client.get(reverse("admin:auth_user_add")).status_code == 200
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 200


def test_a_manager_reads_the_audit_log_but_cannot_change_or_delete_it(client, as_role, person):
    user = as_role(MANAGER)
    entry = AuditEntry.objects.create(action="view", actor=user, actor_role=MANAGER, summary="閲覧")
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:audit_auditentry_change", args=[entry.pk])).status_code == 200
    assert client.get(reverse("admin:audit_auditentry_delete", args=[entry.pk])).status_code == 403
    assert client.post(reverse("admin:audit_auditentry_change", args=[entry.pk]), {"summary": "x"}).status_code == 403
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403


def test_person_deletion_is_left_to_managers(client, as_role, person):
    as_role(MANAGER)
    assert client.get(reverse("admin:eligibility_person_delete", args=[person.pk])).status_code == 200
    assert Person.objects.filter(pk=person.pk).exists()


# --- exports and downloads (the certificates app's pages, checked per role) ---------------------

EXPORT_URL = "admin:certificates_exofficiocandidate_export"


def test_a_viewer_can_neither_export_the_ex_officio_list_nor_download_a_pdf(client, as_role):
    as_role(VIEWER)
    assert client.get(reverse(EXPORT_URL, args=["utf8"])).status_code == 403
    assert client.get(reverse("certificates:certificate_pdf", args=[1])).status_code == 403
    assert client.get(reverse("certificates:print_file_pdf", args=[1])).status_code == 403
    assert not AuditEntry.objects.filter(action__in=["export", "download"]).exists()


def test_a_clerk_exports_the_ex_officio_list_and_the_export_is_audited(client, as_role, person):
    clerk = as_role(CLERK)
    start = client.get(reverse(EXPORT_URL, args=["utf8"]))["Location"]
    assert client.get(start).status_code == 200  # a page with the button: only its POST starts the job
    response = client.post(start)
    # The file is written by a job; staff follow it on the job's page.
    assert response.status_code == 302 and response["Location"].startswith("/staff/exports/")
    assert client.get(response["Location"]).status_code == 200
    assert AuditEntry.objects.filter(action="export", actor=clerk, actor_role=CLERK).exists()


def test_a_clerk_may_download_pdfs(client, as_role):
    as_role(CLERK)
    # No such certificate: the permission lets the clerk through to a 404, not a 403.
    assert client.get(reverse("certificates:certificate_pdf", args=[10**9])).status_code == 404

