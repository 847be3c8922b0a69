"""Paper 資格情報のお知らせ travel to the 事業所 in packets like certificates (R10, R12)."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from certificates.models import Packet, PacketItem
from notices.models import NoticeRecord
from staff.roles import CLERK
from staff.testing import login_with_mfa, make_staff


@pytest.fixture
def clerk(client, db):
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@kenpo.example.jp"))
    return client


def print_paper(clerk, persons):
    for person in persons:
        NoticeRecord.objects.create(person=person, paper_requested=True)
    url = reverse("admin:notices_noticerecord_changelist")
    response = clerk.post(url, {"action": "print_paper", "_selected_action": [p.pk for p in persons]})
    assert response["Content-Type"] == "application/pdf"


def contact_client(user):
    browser = Client()
    login_with_mfa(browser, user)
    return browser


def test_a_clerk_prints_paper_notices_and_each_employer_gets_only_its_own(clerk, employer_a, employer_b, people_a,
                                                                          people_b, voluntary_a, contact_a, contact_b):
    insured_a, child_a = people_a
    insured_b, _child_b = people_b
    voluntary, _ = voluntary_a
    print_paper(clerk, [insured_a, child_a, insured_b, voluntary])

    packet_a = Packet.objects.get(employer=employer_a)
    assert {i.notice_person for i in packet_a.items.all()} == {insured_a, child_a}
    assert Packet.objects.get(employer=employer_b).items.get().notice_person == insured_b
    assert not PacketItem.objects.filter(notice_person=voluntary).exists()  # 任意継続: posted (R8)

    browser_a = contact_client(contact_a)
    page = browser_a.get(reverse("employer:packet", args=[employer_a.pk, packet_a.pk]))
    main = page.content.decode().split("<main", 1)[1]
    assert page.status_code == 200
    assert "資格情報のお知らせ" in main and "77・100・00" in main and "77・100・01" in main
    assert "青木 こども" in main and "青木 一郎" in main  # the dependent's line names the insured person
    assert "別所" not in main and "任継" not in main
    for never in ("有効期限", "利用登録", "マイナ保険証", "職権", "生年月日", "資格取得"):
        assert never not in main

    csv_rows = list(csv.reader(io.StringIO(b"".join(browser_a.get(
        reverse("employer:packet_csv", args=[employer_a.pk, packet_a.pk]) + "?encoding=utf8").streaming_content)
        .decode("utf-8-sig"))))
    assert [row[4] for row in csv_rows[1:]] == ["資格情報のお知らせ", "資格情報のお知らせ"]
    assert csv_rows[2][2:4] == ["青木 こども", "青木 一郎"]
    pdf = browser_a.get(reverse("employer:packet_pdf", args=[employer_a.pk, packet_a.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    items = list(packet_a.items.order_by("notice_person__branch_number"))
    url = reverse("employer:packet", args=[employer_a.pk, packet_a.pk])
    assert browser_a.post(url, {"items": [items[0].pk], "action": "handed"}).status_code == 302
    browser_a.post(url, {"items": [items[1].pk], "action": "returned", "return_reason": "absent"})
    assert [i.state for i in packet_a.items.order_by("notice_person__branch_number")] == ["handed", "returned"]

    browser_b = contact_client(contact_b)
    assert browser_b.get(url).status_code == 404
    assert browser_b.get(reverse("employer:packet", args=[employer_b.pk, packet_a.pk])).status_code == 404

