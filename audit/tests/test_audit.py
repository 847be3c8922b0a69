"""The audit log: reads, changes, exports, downloads, imports and logins, with who,
when and from where; nobody edits or deletes it; members see staff accesses."""

import pytest
from auditlog.models import LogEntry
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEntry
from audit.services import record
from staff.roles import CLERK, MANAGER, VIEWER
from staff.testing import PASSWORD, admin_form_data, login_with_mfa, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client):
    user = make_staff(role=VIEWER, email="viewer@kenpo.example.jp")
    login_with_mfa(client, user)
    return user


# --- reads and changes in the admin -------------------------------------------------

def test_opening_a_persons_page_is_logged_with_who_when_and_where(client, viewer, alice_person):
    client.get(reverse("admin:eligibility_person_change", args=[alice_person.pk]), REMOTE_ADDR="203.0.113.7")
    entry = AuditEntry.objects.get(action="view")
    assert entry.actor == viewer
    assert entry.actor_role == VIEWER
    assert entry.ip_address == "203.0.113.7"
    assert entry.object_type == "eligibility.Person" and entry.object_id == str(alice_person.pk)
    assert entry.household_id == alice_person.household_id
    assert entry.at is not None


def test_the_list_alone_is_not_a_read_of_a_person_but_a_read_of_a_list(client, viewer, alice_person):
    client.get(reverse("admin:eligibility_person_changelist"), {"relationship__exact": "self"})
    entry = AuditEntry.objects.get(action="view")
    assert entry.object_type == "" and entry.household_id is None  # no person; not in a member's access record
    assert entry.details == {"list": "eligibility.Person", "filter": "relationship__exact=self", "shown": 1, "rows": 1}


@pytest.mark.parametrize("url", ["admin:certificates_exofficiocandidate_changelist",
                                 "admin:certificates_reissuerequest_changelist"])
def test_the_lists_with_names_and_numbers_are_logged_with_their_row_count(client, viewer, url):
    client.get(reverse(url))
    entry = AuditEntry.objects.get(action="view")
    assert "rows" in entry.details and "filter" in entry.details


def test_the_review_queue_is_logged_with_its_row_count(client, viewer, db):
    assert client.get(reverse("certificates:review_queue")).status_code == 200  # a viewer reads requests
    assert AuditEntry.objects.get(action="view").details == {"list": "certificates.review_queue", "rows": 0}
    clerk = make_staff(role=CLERK, email="clerk2@kenpo.example.jp")
    login_with_mfa(client, clerk)
    assert client.get(reverse("certificates:review_queue")).status_code == 200
    entry = AuditEntry.objects.get(action="view", actor=clerk)
    assert entry.details == {"list": "certificates.review_queue", "rows": 0}


def test_the_lookup_by_symbol_and_number_is_logged_without_the_numbers(client, viewer, alice_person):
    client.post(reverse("admin:eligibility_person_lookup"), {"symbol": "1234", "number": "5678", "branch_number": "0"})
    entry = AuditEntry.objects.get(action="view")
    assert entry.object_id == str(alice_person.pk) and entry.details == {"rows": 1}
    assert "5678" not in entry.summary


def test_an_export_can_carry_its_row_count(db):
    from audit.services import record

    assert record(action="export", summary="CSV", row_count=42).details == {"rows": 42}


def test_a_change_keeps_before_and_after_values(client, alice_person):
    clerk = make_staff(role=CLERK, email="clerk@kenpo.example.jp")
    login_with_mfa(client, clerk)
    url = reverse("admin:eligibility_person_change", args=[alice_person.pk])
    response = client.post(url, admin_form_data(client.get(url), given_name="花江"), REMOTE_ADDR="198.51.100.2")
    assert response.status_code == 302

    assert AuditEntry.objects.filter(action="change", object_id=str(alice_person.pk), actor=clerk).exists()
    log = LogEntry.objects.get_for_object(alice_person).filter(action=LogEntry.Action.UPDATE).get()
    assert log.changes_dict["given_name"] == ["花子", "花江"]
    assert log.actor == clerk
    assert log.remote_addr == "198.51.100.2"


def test_card_facts_changes_are_kept_too(alice_person):
    card = alice_person.card
    card.registered = False
    card.save()
    log = LogEntry.objects.get_for_object(card).filter(action=LogEntry.Action.UPDATE).get()
    assert log.changes_dict["registered"] == ["True", "False"]


# --- exports, downloads, imports (written by other apps through record()) ----------

@pytest.mark.parametrize("action", ["export", "download", "import", "issue"])
def test_record_writes_an_entry_for_exports_downloads_and_imports(action, alice_person):
    staff = make_staff(role=CLERK, email=f"{action}@kenpo.example.jp")
    request = RequestFactory().get("/admin/", REMOTE_ADDR="192.0.2.10")
    request.user = staff
    entry = record(action=action, request=request, obj=alice_person, summary="資格確認書PDF")
    assert (entry.action, entry.actor, entry.actor_role, entry.ip_address) == (action, staff, CLERK, "192.0.2.10")
    assert entry.household_id == alice_person.household_id


def test_record_without_a_request_is_the_system(alice_person):
    entry = record(action="import", obj=alice_person.household, summary="名簿の取込")
    assert entry.actor is None and entry.actor_role == "system"
    assert entry.household_id == alice_person.household_id


# --- logins ---------------------------------------------------------------------------

def test_a_login_is_logged_with_the_address(client, alice):
    client.post(reverse("account_login"), {"login": "alice@example.jp", "password": "correct-horse-battery"},
                REMOTE_ADDR="203.0.113.50")
    entry = AuditEntry.objects.get(action="login")
    assert entry.actor == alice and entry.ip_address == "203.0.113.50" and entry.actor_role == "member"


def test_a_failed_login_keeps_the_email_typed_and_never_the_password(client, alice):
    client.post(reverse("account_login"), {"login": "alice@example.jp", "password": "Wrong-Secret-123"},
                REMOTE_ADDR="203.0.113.51")
    entry = AuditEntry.objects.get(action="login_failed")
    assert entry.ip_address == "203.0.113.51"
    assert entry.details["login"] == "alice@example.jp"
    everything = str(AuditEntry.objects.values_list("summary", "details"))
    assert "Wrong-Secret-123" not in everything


def test_a_failed_login_for_an_unknown_address_is_logged_as_a_hash(client, db):
    client.post(reverse("account_login"), {"login": "nobody@example.jp", "password": "whatever-123456"})
    kept = AuditEntry.objects.get(action="login_failed").details["login"]
    assert kept.startswith("hash:") and "nobody" not in kept


def test_a_failed_login_keeps_the_address_of_an_existing_login(client, alice):
    client.post(reverse("account_login"), {"login": "alice@example.jp", "password": "whatever-123456"})
    assert AuditEntry.objects.get(action="login_failed").details["login"] == "alice@example.jp"


@pytest.mark.parametrize("typed", ["My-Secret-Passw0rd", "1234 5678 9018", "alice@example.jp 1234-5678-9018"])
def test_a_password_or_a_my_number_typed_as_the_login_is_never_kept(typed, alice, rf):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.auth.signals import user_login_failed

    request = rf.post("/")
    request.user = AnonymousUser()
    user_login_failed.send(sender=None, credentials={"email": typed, "password": "x"}, request=request)
    kept = AuditEntry.objects.get(action="login_failed").details["login"]
    assert kept.startswith("hash:") and typed not in kept


def test_a_staff_login_through_mfa_is_logged_once_complete(client):
    from staff.testing import totp_code

    staff = make_staff(role=MANAGER, email="boss@kenpo.example.jp")
    client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert not AuditEntry.objects.filter(action="login").exists()  # the password alone is not a login
    client.post(reverse("mfa_authenticate"), {"code": totp_code(staff)})
    assert AuditEntry.objects.get(action="login").actor_role == MANAGER


# --- nobody edits or deletes ------------------------------------------------------------

def test_even_a_superuser_cannot_add_change_or_delete_entries(client, alice_person):
    root = make_staff(role=None, email="root@kenpo.example.jp", superuser=True)
    login_with_mfa(client, root)
    entry = record(action="view", obj=alice_person, summary="閲覧")
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert client.get(reverse("admin:audit_auditentry_delete", args=[entry.pk])).status_code == 403
    client.post(reverse("admin:audit_auditentry_change", args=[entry.pk]), {"summary": "消した"})
    client.post(reverse("admin:audit_auditentry_changelist"), {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    entry.refresh_from_db()
    assert entry.summary == "閲覧"

    log = LogEntry.objects.first()
    assert client.get(reverse("admin:auditlog_logentry_delete", args=[log.pk])).status_code == 403
    client.post(reverse("admin:auditlog_logentry_changelist"), {"action": "delete_selected", "_selected_action": [log.pk], "post": "yes"})
    assert LogEntry.objects.filter(pk=log.pk).exists()


def test_entries_are_searchable_and_filterable(client, alice_person, charlie_person):
    manager = make_staff(role=MANAGER, email="m@kenpo.example.jp")
    login_with_mfa(client, manager)
    record(action="download", actor=manager, obj=alice_person, summary="資格確認書PDFをダウンロード")
    record(action="view", actor=manager, obj=charlie_person, summary="加入者を閲覧")
    url = reverse("admin:audit_auditentry_changelist")

    by_action = client.get(url, {"action__exact": "download"})
    assert [e.summary for e in by_action.context["cl"].result_list] == ["資格確認書PDFをダウンロード"]
    by_text = client.get(url, {"q": "閲覧"})
    assert [e.object_id for e in by_text.context["cl"].result_list] == [str(charlie_person.pk)]
    by_role = client.get(url, {"actor_role": MANAGER})
    assert by_role.status_code == 200


# --- what members see -----------------------------------------------------------------------

def test_members_see_when_and_by_which_role_staff_opened_their_records(client, viewer, alice, alice_person):
    client.get(reverse("admin:eligibility_person_change", args=[alice_person.pk]))
    client.logout()
    client.force_login(alice)
    response = client.get(reverse("audit:access_log"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "職員（閲覧）" in body
    assert "閲覧" in body and "佐藤 花子" in body
    assert viewer.email not in body and viewer.username not in body


def test_members_do_not_see_other_households_accesses(client, viewer, alice_person, charlie):
    client.get(reverse("admin:eligibility_person_change", args=[alice_person.pk]))
    client.force_login(charlie)
    assert client.get(reverse("audit:access_log")).context["rows"] == []


def test_a_dependents_own_login_sees_only_accesses_to_that_dependent(client, viewer, alice_person, bob, bob_person):
    client.get(reverse("admin:eligibility_person_change", args=[alice_person.pk]))
    client.get(reverse("admin:eligibility_person_change", args=[bob_person.pk]))
    client.force_login(bob)
    rows = client.get(reverse("audit:access_log")).context["rows"]
    assert [row["entry"].object_id for row in rows] == [str(bob_person.pk)]


def test_a_members_own_logins_are_not_staff_accesses(client, alice):
    client.post(reverse("account_login"), {"login": "alice@example.jp", "password": "correct-horse-battery"})
    assert client.get(reverse("audit:access_log")).context["rows"] == []


def test_the_access_log_needs_a_login(client):
    response = client.get(reverse("audit:access_log"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


# --- the client address ------------------------------------------------------------------------

def _request(**meta):
    return RequestFactory().get("/", **meta)


def test_a_forged_forwarded_for_header_is_ignored_without_a_trusted_proxy(settings):
    from core.network import client_ip

    settings.KENPO_TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.1")) == "203.0.113.9"


def test_behind_one_trusted_proxy_the_address_it_saw_is_kept(settings):
    from core.network import client_ip

    settings.KENPO_TRUSTED_PROXY_COUNT = 1
    request = _request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4")
    assert client_ip(request) == "198.51.100.4"  # the client-written 6.6.6.6 is not believed


def test_garbage_addresses_are_not_stored(settings):
    from core.network import client_ip

    settings.KENPO_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="<script>")) is None


def test_auditlog_changes_carry_the_same_address(client, alice_person, settings):
    settings.KENPO_TRUSTED_PROXY_COUNT = 0
    clerk = make_staff(role=CLERK, email="ip@kenpo.example.jp")
    login_with_mfa(client, clerk)
    url = reverse("admin:eligibility_person_change", args=[alice_person.pk])
    client.post(url, admin_form_data(client.get(url), given_name="花江"),
                REMOTE_ADDR="198.51.100.77", HTTP_X_FORWARDED_FOR="1.2.3.4")
    log = LogEntry.objects.get_for_object(alice_person).filter(action=LogEntry.Action.UPDATE).get()
    assert log.remote_addr == "198.51.100.77"


def test_a_login_with_audit_entries_cannot_be_deleted_so_the_log_keeps_who_acted(db):
    from django.db.models import ProtectedError

    from audit.services import record
    from tests.factories import UserFactory

    clerk = UserFactory(username="leaving-clerk", is_staff=True)
    record(action="export", actor=clerk, summary="CSV")
    with pytest.raises(ProtectedError):
        clerk.delete()


def test_opening_a_persons_change_history_is_logged(client, alice_person):
    from audit.models import AuditEntry
    from staff.roles import VIEWER
    from staff.testing import login_with_mfa, make_staff

    viewer = make_staff(role=VIEWER, email="history-viewer@example.jp")
    login_with_mfa(client, viewer)
    response = client.get(f"/admin/eligibility/person/{alice_person.pk}/history/")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="view", actor=viewer)
    assert entry.household_id == alice_person.household_id and "変更履歴" in entry.summary


def test_a_staff_edit_of_card_facts_names_the_clerk_and_keeps_the_history(client, alice_person):
    from eligibility.models import CardFacts, CardFactsChange

    clerk = make_staff(role=CLERK, email="clerk@kenpo.example.jp")
    login_with_mfa(client, clerk)
    url = reverse("admin:eligibility_person_change", args=[alice_person.pk])
    data = admin_form_data(client.get(url))
    data.pop("card-0-registered", None)  # unticked: not registered any more
    response = client.post(url, data)
    assert response.status_code == 302

    card = CardFacts.objects.get(person=alice_person)
    assert card.registered is False and card.updated_by == clerk  # 更新者
    change = CardFactsChange.objects.get(person=alice_person)
    assert (change.source, change.changed_by, change.after) == ("staff", clerk, {"registered": False})
    assert AuditEntry.objects.filter(action="change", summary="カード情報の変更", actor=clerk).exists()
