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

    assert Person.objects.get(pk=kato.pk).search_text == "斎藤一郎 サイトウイチロウ"
    assert Person.objects.filter(search_text__contains="斎藤").count() == 1


# --- Search as clerks type (issue 20, defect 5) -------------------------------------------------------------------

@pytest.fixture
def haruto(db):
    from tests.factories import HouseholdFactory

    household = HouseholdFactory(symbol="109", number="200004")
    return PersonFactory(household=household, family_name="髙橋", given_name="陽翔", family_name_kana="タカハシ",
                         given_name_kana="ハルト", birth_date=date(1985, 4, 12))


@pytest.fixture
def namesake(db):
    """The same name, born another day."""
    return PersonFactory(family_name="高橋", given_name="陽翔", family_name_kana="タカハシ", given_name_kana="ハルト",
                         birth_date=date(1990, 1, 5))


def names_found(client, q, url="/admin/eligibility/person/"):
    response = client.get(url, {"q": q})
    assert response.status_code == 200
    return {p.pk for p in response.context["cl"].result_list}


@pytest.mark.parametrize("q", ["高橋陽翔", "髙橋陽翔", "タカハシハルト", "たかはしはると", "ﾀｶﾊｼﾊﾙﾄ", "高橋　陽翔", "たかはし はると",
                               "橋陽"])
def test_a_name_is_found_with_or_without_the_space(staff_client, haruto, namesake, q):
    assert names_found(staff_client, q) == {haruto.pk, namesake.pk}


@pytest.mark.parametrize("q", ["1985-04-12", "1985/4/12", "19850412", "昭和60年4月12日", "S60.4.12", "s60/4/12",
                               "１９８５－０４－１２", "1985年4月12日"])
def test_a_date_of_birth_is_found_in_western_or_era_form(staff_client, haruto, namesake, q):
    assert names_found(staff_client, q) == {haruto.pk}


def test_a_name_and_a_date_of_birth_together_find_that_one_person(staff_client, haruto, namesake, people):
    assert names_found(staff_client, "高橋陽翔 S60.4.12") == {haruto.pk}
    assert names_found(staff_client, "たかはし 1990-01-05") == {namesake.pk}
    assert names_found(staff_client, "かとう S60.4.12") == set()
    # The ex-officio list and the other lists search the same way.
    assert names_found(staff_client, "高橋陽翔 昭和60年4月12日", "/admin/certificates/exofficiocandidate/") <= {haruto.pk}


@pytest.mark.parametrize("typed", ["109-200004-00", "109・200004・00", "109-200004", "１０９－２００００４－００",
                                   "記号 109 番号 200004 枝番 00", "0109 200004 0"])
def test_the_symbol_and_number_lookup_reads_every_form_the_portal_prints(staff_client, haruto, typed):
    from django.urls import reverse

    response = staff_client.post(reverse("admin:eligibility_person_lookup"), {"symbol": typed})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:eligibility_person_change", args=[haruto.pk])


@pytest.mark.parametrize("typed", ["109", "109-200004-001", "abc-1-2", "123456789-1"])
def test_the_lookup_explains_what_it_cannot_read(staff_client, haruto, typed):
    from django.urls import reverse

    response = staff_client.post(reverse("admin:eligibility_person_lookup"), {"symbol": typed})

    assert response.status_code == 200
    assert response.context["form"].errors
