"""The employer door (RULES.md R12), as a contact, staff and a member would use it."""

import csv
import io
import re

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEntry
from certificates.models import Basis, Collection, PacketItem, ReissueRequest
from eligibility.contacts import contact_invite
from eligibility.models import EmployerContact
from staff.roles import MANAGER
from staff.testing import login_with_mfa, make_staff
from tests.factories import verified_member

from .conftest import make_contact, packet_for

pytestmark = pytest.mark.django_db


# --- Contacts: invited, set a password, TOTP, removed ----------------------------------


def test_staff_invite_a_contact_who_sets_a_password_then_must_set_up_totp(client, employer_a, django_capture_on_commit_callbacks):
    manager = make_staff(role=MANAGER, email="boss@example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        contact = contact_invite(email="hr@example.jp", name="人事 花子", employers=[employer_a], by=manager)
    (message,) = mail.outbox
    assert message.to == ["hr@example.jp"] and "青空商事株式会社" in message.body
    link = re.search(r"http://\S+/employer/invite/\S+/", message.body).group(0)
    path = link.split("8000", 1)[1] if "8000" in link else "/" + link.split("/", 3)[3]
    assert client.get(path).status_code == 200
    response = client.post(path, {"new_password1": "Kenpo-hr-2026-x", "new_password2": "Kenpo-hr-2026-x"})
    assert response.status_code == 302
    assert client.get(path).status_code == 400  # one time only
    assert client.login(username=contact.user.username, password="Kenpo-hr-2026-x")
    response = client.get(reverse("employer:home"))
    assert response.status_code == 302 and reverse("mfa_activate_totp") in response["Location"]


def test_a_removed_contact_can_no_longer_sign_in(client, employer_a, contact_a):
    from eligibility.contacts import contact_remove

    contact_remove(contact=contact_a.employer_contact, by=None)
    assert not client.login(username=contact_a.username, password="contact-Correct-horse-9")
    assert EmployerContact.objects.get(user=contact_a).removed_at is not None


def test_a_contact_without_totp_is_sent_to_set_it_up_and_without_a_code_to_enter_one(client, employer_a):
    user = make_contact(employer_a, email="new@example.jp", with_totp=False)
    client.force_login(user)
    assert reverse("mfa_activate_totp") in client.get(reverse("employer:home"))["Location"]
    user = make_contact(employer_a, email="coded@example.jp")
    client.force_login(user)  # password only: no MFA step in this session
    assert reverse("mfa_reauthenticate") in client.get(reverse("employer:home"))["Location"]


# --- The gate both ways --------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/my/", "/my/access/", "/my/notices/", "/certificates/requests/",
                                 "/admin/", "/staff/", "/accounts/email/"])
def test_a_contact_never_reaches_member_or_staff_pages(client_a, url):
    response = client_a.get(url)
    assert response.status_code == 403 or response["Location"] == reverse("employer:home")


def test_staff_and_members_never_reach_employer_pages(client, employer_a, alice):
    staff = make_staff(role=MANAGER, email="boss@example.jp")
    login_with_mfa(client, staff)
    assert client.get(reverse("employer:employer", args=[employer_a.pk])).status_code == 403
    client.force_login(alice)
    assert client.get(reverse("employer:home")).status_code == 403
    client.logout()
    assert client.get(reverse("employer:home")).status_code == 302  # to the sign-in


# --- Packets out --------------------------------------------------------------------------


def test_the_packet_lists_who_each_item_is_for_and_nothing_about_cards(client_a, employer_a, people_a):
    packet, _certs = packet_for(list(people_a))
    response = client_a.get(reverse("employer:packet", args=[employer_a.pk, packet.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "77・100・00" in html and "青木 一郎" in html and "青木 こども" in html
    for never in ("有効期限", "利用登録", "マイナ保険証", "Basis", "職権"):
        assert never not in html.split("<main", 1)[1]


def test_the_list_as_csv_for_japanese_excel_is_formula_safe(client_a, employer_a, people_a):
    insured, child = people_a
    insured.family_name = "=HYPERLINK(1)"
    insured.save()
    packet, _certs = packet_for([insured, child])
    response = client_a.get(reverse("employer:packet_csv", args=[employer_a.pk, packet.pk]) + "?encoding=cp932")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("cp932"))))
    assert rows[0][:4] == ["No.", "記号・番号・枝番", "氏名", "被保険者（ご家族の分）"]
    assert rows[1][2].startswith("'=")
    assert rows[2][3] == "'=HYPERLINK(1) 一郎"  # the child's row names the insured person, escaped too
    utf8 = client_a.get(reverse("employer:packet_csv", args=[employer_a.pk, packet.pk]) + "?encoding=utf8")
    assert b"".join(utf8.streaming_content).startswith(b"\xef\xbb\xbf")


def test_the_list_prints_as_a_pdf(client_a, employer_a, people_a):
    packet, _certs = packet_for(list(people_a))
    response = client_a.get(reverse("employer:packet_pdf", args=[employer_a.pk, packet.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_the_contact_marks_items_handed_over_or_returned_with_a_reason(client_a, employer_a, people_a):
    packet, _certs = packet_for(list(people_a))
    first, second = packet.items.order_by("certificate__person__branch_number")
    url = reverse("employer:packet", args=[employer_a.pk, packet.pk])
    assert client_a.post(url, {"items": [first.pk], "action": "handed"}).status_code == 302
    assert client_a.post(url, {"items": [second.pk], "action": "returned"}).status_code == 400  # no reason
    client_a.post(url, {"items": [second.pk], "action": "returned", "return_reason": "absent"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state, second.return_reason) == ("handed", "returned", "absent")


def test_every_read_by_a_contact_shows_in_the_members_access_log(client, client_a, employer_a, people_a):
    insured, _child = people_a
    packet, _certs = packet_for(list(people_a))
    client_a.get(reverse("employer:packet", args=[employer_a.pk, packet.pk]))
    assert AuditEntry.objects.filter(household_id=insured.household_id, actor_role="employer").exists()
    member = verified_member(insured, "aoki@example.jp")
    client.force_login(member)
    page = client.get(reverse("audit:access_log")).content.decode()
    assert "勤務先の担当者" in page


def test_staff_repost_a_returned_item(employer_a, people_a):
    from certificates.services import packets

    packet, _certs = packet_for(list(people_a))
    item = packet.items.first()
    packets.items_mark(packet=packet, item_ids=[item.pk], state="returned", return_reason="left", by=None)
    assert packets.items_repost(item_ids=[item.pk], by=None) == 1
    assert PacketItem.objects.get(pk=item.pk).state == "reposted"


# --- Bounds: another 事業所, 任意継続, former employees ------------------------------------------


def test_a_contact_of_a_never_sees_downloads_or_marks_anything_of_b(client_a, employer_a, employer_b, people_b):
    packet_b, _certs = packet_for(list(people_b))
    item_b = packet_b.items.first()
    for name in ("packet", "packet_csv", "packet_pdf"):
        assert client_a.get(reverse(f"employer:{name}", args=[employer_b.pk, packet_b.pk])).status_code == 404
        assert client_a.get(reverse(f"employer:{name}", args=[employer_a.pk, packet_b.pk])).status_code == 404
    client_a.post(reverse("employer:packet", args=[employer_a.pk, packet_b.pk]), {"items": [item_b.pk], "action": "handed"})
    assert PacketItem.objects.get(pk=item_b.pk).state == "out"
    for person in people_b:
        assert client_a.get(reverse("employer:apply_reason", args=[employer_a.pk, person.pk])).status_code == 404


def test_a_contact_cannot_apply_for_a_voluntary_continuation_household_or_a_leaver(client_a, employer_a, voluntary_a, people_a):
    from datetime import date

    leaver, _child = people_a
    leaver.eligible_until = date(2020, 1, 1)
    leaver.save()
    for person in (*voluntary_a, leaver):
        assert client_a.get(reverse("employer:apply_reason", args=[employer_a.pk, person.pk])).status_code == 404
    response = client_a.post(reverse("employer:apply_find", args=[employer_a.pk]), {"symbol": "77", "number": "300"})
    assert "任継" not in response.content.decode()


# --- Applications in ------------------------------------------------------------------------


def test_the_contact_files_an_application_the_member_sees_and_is_mailed(client, client_a, employer_a, people_a,
                                                                       django_capture_on_commit_callbacks):
    insured, child = people_a
    member = verified_member(insured, "aoki@example.jp")
    found = client_a.post(reverse("employer:apply_find", args=[employer_a.pk]), {"symbol": "077", "number": "100"})
    assert "青木 こども" in found.content.decode()
    refused = client_a.post(reverse("employer:apply_reason", args=[employer_a.pk, child.pk]), {"reason": "nursery"})
    assert "コピー" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(reverse("employer:apply_details", args=[employer_a.pk, child.pk, "no_card"]), {})
    assert response.status_code == 302
    req = ReissueRequest.objects.get(person=child)
    assert req.via_employer == employer_a and req.requested_by is None
    assert [m.to for m in mail.outbox] == [["aoki@example.jp"]]
    client.force_login(member)
    assert "青木 こども" in client.get(reverse("certificates:request_list")).content.decode()
    detail = client.get(reverse("certificates:request_detail", args=[req.pk])).content.decode()
    assert "勤務先（事業所）の担当者が申請しました" in detail


# --- 回収 ------------------------------------------------------------------------------------


def test_a_leavers_certificate_is_on_the_collection_list_until_recorded(client_a, employer_a, people_a):
    from datetime import timedelta

    from certificates import services
    from eligibility.selectors import today

    packet, certificates = packet_for(list(people_a))
    services.packets.items_mark(packet=packet, item_ids=packet.items.values_list("pk", flat=True), state="handed",
                                by=None)
    insured, _child = people_a
    url = reverse("employer:collections", args=[employer_a.pk])
    assert insured.name not in client_a.get(url).content.decode()
    insured.eligible_until = today()
    insured.save()
    services.certificates_void_ended_eligibility(today=today())
    assert insured.name in client_a.get(url).content.decode()
    cert = next(c for c in certificates if c.person_id == insured.pk)
    assert services.packets.collections_overdue().count() == 0
    from certificates.models import EligibilityCertificate
    EligibilityCertificate.objects.filter(pk=cert.pk).update(voided_at=cert.queued_at - timedelta(days=6))
    assert list(services.packets.collections_overdue()) == [cert]
    client_a.post(reverse("employer:collection_record", args=[employer_a.pk]),
                  {"certificate": cert.pk, "outcome": "collected"})
    assert Collection.objects.get(certificate=cert).outcome == "collected"
    assert insured.name not in client_a.get(url).content.decode()


def test_contacts_are_reminded_of_unconfirmed_packets_after_the_set_days_once(settings, employer_a, people_a, contact_a):
    from datetime import timedelta

    from django.utils import timezone

    from certificates.models import Packet
    from certificates.tasks import remind_unconfirmed_packets

    settings.KENPO_PACKET_REMINDER_DAYS = 14
    packet, _certs = packet_for(list(people_a))
    assert remind_unconfirmed_packets() == 0
    Packet.objects.filter(pk=packet.pk).update(created_at=timezone.now() - timedelta(days=15))
    assert remind_unconfirmed_packets() == 1
    assert remind_unconfirmed_packets() == 0
    (message,) = mail.outbox
    assert message.to == ["hr-a@example.jp"] and "2件" in message.body
    assert "青木" not in message.body and "77" not in message.body.replace(str(packet.pk), "")


def test_the_day_s_print_file_is_the_packet_and_its_cover_names_the_insured_person(employer_a, people_a,
                                                                                   django_capture_on_commit_callbacks):
    from pypdf import PdfReader

    from certificates import services
    from certificates.models import Packet
    from eligibility.selectors import today

    insured, child = people_a
    for p in (insured, child):
        services.certificate_issue(person=p, basis=Basis.CUTOFF, issued_by=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.daily_print_files_make(day=today())
    packet = Packet.objects.get(employer=employer_a)
    assert packet.items.count() == 2
    cover = PdfReader(packet.print_file.pdf.path).pages[0].extract_text().replace(" ", "")
    assert "青空商事株式会社御中" in cover
    assert cover.count("青木一郎") == 2  # the insured person's own line, and beside the child's
    assert "有効期限" not in cover


def test_the_list_pdf_is_the_printed_cover_cut_from_the_rendered_file(client_a, employer_a, people_a,
                                                                      django_capture_on_commit_callbacks):
    from pypdf import PdfReader

    from certificates import services
    from certificates.models import Packet
    from eligibility.selectors import today

    for p in people_a:
        services.certificate_issue(person=p, basis=Basis.CUTOFF, issued_by=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.daily_print_files_make(day=today())
    packet = Packet.objects.get(employer=employer_a)
    cut = services.packets.packet_list_pdf(packet)
    (page,) = PdfReader(io.BytesIO(cut)).pages  # the cover only, not the two certificates
    assert "青空商事株式会社御中" in page.extract_text().replace(" ", "")
    response = client_a.get(reverse("employer:packet_pdf", args=[employer_a.pk, packet.pk]))
    assert response.content == cut
