"""The admin searches by name fold kana and 異体字 (core.kana) on persons, the
ex-officio list, requests and certificates."""

from datetime import date

import pytest
from django.utils import timezone

from certificates.models import EligibilityCertificate, ReissueRequest
from eligibility.models import Person
from staff.roles import MANAGER
from staff.testing import login_with_mfa, make_staff
from tests.factories import CardFactsFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {
        "kato": PersonFactory(family_name="加藤", given_name="一郎", family_name_kana="カトウ", given_name_kana="イチロウ"),
        "yamazaki": PersonFactory(family_name="山﨑", given_name="花子", family_name_kana="ヤマサキ",
                                  given_name_kana="ハナコ"),
        "takahashi": PersonFactory(family_name="髙橋", given_name="健", family_name_kana="タカハシ",
                                   given_name_kana="ケン"),
        "sato": PersonFactory(family_name="佐藤", given_name="次郎", family_name_kana="サトウ", given_name_kana="ジロウ"),
    }


@pytest.fixture
def staff_client(client):
    login_with_mfa(client, make_staff(role=MANAGER, email="manager@example.jp"))
    return client


def found(client, url, q):
    response = client.get(url, {"q": q})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("q, who", [
    ("かとう", "加藤"), ("ｶﾄｳ", "加藤"), ("カトウ", "加藤"), ("加藤 いちろう", "加藤"),
    ("山崎", "山﨑"), ("やまさき", "山﨑"), ("高橋", "髙橋"), ("たかはし けん", "髙橋"),
])
def test_the_person_list_finds_them_however_typed(staff_client, people, q, who):
    html = found(staff_client, "/admin/eligibility/person/", q)

    assert who in html
    others = {"加藤", "山﨑", "髙橋", "佐藤"} - {who}
    assert not any(f"{name} " in html for name in others)


def test_the_other_lists_search_names_the_same_way(staff_client, people):
    kato, takahashi = people["kato"], people["takahashi"]
    ReissueRequest.objects.create(person=kato, reason="card_lost")
    EligibilityCertificate.objects.create(
        serial="2026-0000001", person=takahashi, basis="cutoff", issued_on=date(2026, 1, 5),
        valid_until=date(2031, 1, 4), delivery_route="employer", queued_at=timezone.now())
    for person in (people["yamazaki"], people["sato"]):  # no card: on the ex-officio list (R6.1)
        CardFactsFactory(person=person, has_card=False, registered=False)

    assert "加藤" in found(staff_client, "/admin/certificates/reissuerequest/", "ｶﾄｳ")
    assert "加藤" not in found(staff_client, "/admin/certificates/reissuerequest/", "さとう")
    assert "2026-0000001" in found(staff_client, "/admin/certificates/eligibilitycertificate/", "高橋")
    assert "2026-0000001" in found(staff_client, "/admin/certificates/eligibilitycertificate/", "0000001")
    assert "2026-0000001" not in found(staff_client, "/admin/certificates/eligibilitycertificate/", "山崎")
    listed = found(staff_client, "/admin/certificates/exofficiocandidate/", "やまさき")
    assert "山﨑" in listed and "佐藤" not in listed


def test_saving_a_person_keeps_the_search_text(people):
    kato = people["kato"]
    kato.family_name, kato.family_name_kana = "齋藤", "サイトウ"
    kato.save(update_fields=["family_name", "family_name_kana"])

    assert Person.objects.get(pk=kato.pk).search_text == "斎藤 一郎 サイトウ イチロウ"
    assert Person.objects.filter(search_text__contains="斎藤").count() == 1
