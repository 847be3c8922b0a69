"""R6, the ex-officio list: a population on both sides of every boundary of the five
bases, the SQL (``with_ex_officio_basis``) checked against the pure rule
(``rules.ex_officio_basis``) on every day that matters."""

from datetime import date

import pytest
from django.utils import timezone

from certificates.models import Basis, EligibilityCertificate, ReissueRequest
from certificates.selectors import ex_officio_basis_of, ex_officio_candidates, ex_officio_counts
from eligibility import rules
from eligibility.models import Person
from tests.factories import HouseholdFactory

from .conftest import ACTIVE, NO_CARD, NOT_REGISTERED, UNKNOWN, person

pytestmark = pytest.mark.django_db

T = date(2026, 11, 25)  # horizon (2 months): 2027-01-25
MONTH_END = date(2026, 12, 31)  # horizon: 2027-02-28 (clamped)
BEFORE_LISTING, LISTING = date(2026, 12, 31), date(2027, 1, 1)  # expiry 2026-11-14 (R6.3's example)
LAST_DAY_74, FEB29_TURNS_75 = date(2027, 2, 28), date(2027, 3, 1)  # born 1952-02-29
DAYS = [T, BEFORE_LISTING, LISTING, LAST_DAY_74, FEB29_TURNS_75, date(2027, 1, 26), date(2027, 2, 1)]
LATER = date(2025, 3, 1)  # enrolled after the cutoff
# Registered, e-certificate expired 2026-11-14: grace until 2027-02-28, listed from 2027-01-01.
RUNNING_OUT = {"card_expires_on": date(2031, 11, 14), "ecert_expires_on": date(2026, 11, 14)}
_serial = iter(range(1, 10_000))


def certificate(p, valid_until, *, status=EligibilityCertificate.Status.MAILED):
    return EligibilityCertificate.objects.create(
        serial=f"T-{next(_serial):06d}", person=p, basis=Basis.CUTOFF, issued_on=date(2022, 1, 1),
        valid_until=valid_until, delivery_route="employer", queued_at=timezone.now(), status=status)


def helper_request(p, status=ReissueRequest.Status.ISSUED):
    return ReissueRequest.objects.create(person=p, reason="needs_helper", status=status)


def who(name, *, household=None, card=None, until=None, **kwargs):
    """A person named ``name`` (given_name), with card facts and a certificate ending ``until``."""
    p = person(given_name=name, household=household or HouseholdFactory(), card=card, **kwargs)
    if until is not None:
        certificate(p, until)
    return p


@pytest.fixture
def population(db):
    # Basis 1: the cutoff, 2024-12-01 inclusive.
    who("基準日当日", eligible_from=date(2024, 12, 1), card=NO_CARD)
    who("基準日翌日", eligible_from=date(2024, 12, 2), card=NO_CARD)
    who("基準日前・未登録", eligible_from=date(2020, 4, 1), card=NOT_REGISTERED)
    # R5 unknown (no card facts row, or nobody said): never basis 1 or 3; bases 2, 4 and 5 do apply.
    who("カード情報なし", eligible_from=date(2010, 4, 1))
    who("不明", eligible_from=date(2010, 4, 1), card=UNKNOWN)
    who("不明・発行希望", eligible_from=LATER, certificate_wanted=True, card=UNKNOWN)
    who("不明・個人番号未登録", eligible_from=LATER, my_number_registered=False)
    who("不明・更新", eligible_from=date(2020, 4, 1), card=UNKNOWN, until=date(2027, 1, 25))
    who("基準日前・利用中", eligible_from=date(2020, 4, 1), card=ACTIVE)
    # Basis 2: the enrolment form.
    who("発行希望", eligible_from=LATER, certificate_wanted=True, card=NO_CARD)
    who("発行希望・利用中", eligible_from=LATER, certificate_wanted=True, card=ACTIVE)
    # Basis 3: running out (grace from 2027-01-01) or lapsed (from 2027-03-01).
    who("期限切れ", eligible_from=LATER, card=RUNNING_OUT)
    who("期限切れ・発行希望", eligible_from=LATER, certificate_wanted=True, card=RUNNING_OUT)
    # Basis 4: 個人番号未登録, whatever the card.
    who("個人番号未登録", eligible_from=LATER, my_number_registered=False, card=ACTIVE)
    who("個人番号未登録・交付済み", eligible_from=LATER, my_number_registered=False, card=ACTIVE,
        until=date(2031, 1, 1))
    # Basis 5: renewal within 2 months (2027-01-25 from T; 2027-02-28 from 2026-12-31).
    who("更新・期限内", eligible_from=date(2020, 4, 1), card=NO_CARD, until=date(2027, 1, 25))
    who("更新・期限外", eligible_from=date(2020, 4, 1), card=NO_CARD, until=date(2027, 1, 26))
    who("更新・月末", eligible_from=date(2020, 4, 1), card=NO_CARD, until=date(2027, 2, 28))
    who("更新・月末翌日", eligible_from=date(2020, 4, 1), card=NO_CARD, until=date(2027, 3, 1))
    who("更新・利用中", eligible_from=date(2020, 4, 1), card=ACTIVE, until=date(2027, 1, 10))
    helper = who("要配慮者", eligible_from=date(2020, 4, 1), card=ACTIVE, until=date(2027, 1, 10))
    helper_request(helper)
    refused = who("要配慮者・却下", eligible_from=date(2020, 4, 1), card=ACTIVE, until=date(2027, 1, 10))
    helper_request(refused, status=ReissueRequest.Status.REJECTED)
    who("申請で交付・期限切れ", eligible_from=LATER, card=NO_CARD, until=T - rules.DAY)
    voided = who("無効にした", eligible_from=LATER, card=NO_CARD)
    certificate(voided, date(2027, 1, 10), status=EligibilityCertificate.Status.VOID)
    # R11: the 75th birthday (born 1951-11-25 turns 75 on T); Feb 29 → Mar 1 in 2027.
    who("75歳", birth_date=date(1951, 11, 25), card=NO_CARD)
    who("74歳最終日", birth_date=date(1951, 11, 26), card=NO_CARD)
    who("2月29日生", birth_date=date(1952, 2, 29), card=NO_CARD)
    # Renewal only when a new certificate runs longer: capped at the day before 75 ...
    who("75歳で終わる", birth_date=date(1952, 1, 10), card=NO_CARD, until=date(2027, 1, 9))
    who("75歳前に終わる", birth_date=date(1952, 1, 10), card=NO_CARD, until=date(2027, 1, 8))
    who("2月29日生・上限", birth_date=date(1952, 2, 29), card=NO_CARD, until=date(2027, 2, 28))
    who("2月29日生・上限前", birth_date=date(1952, 2, 29), card=NO_CARD, until=date(2027, 2, 27))
    # ... at the day before 資格喪失日, or at 任意継続's end.
    who("喪失日で終わる", eligible_until=date(2027, 1, 10), card=NO_CARD, until=date(2027, 1, 9))
    who("喪失日前に終わる", eligible_until=date(2027, 1, 10), card=NO_CARD, until=date(2027, 1, 8))
    # 任意継続 members get their certificate by post: the roster carries their address (R8).
    continuing = {"voluntary_continuation": True, "voluntary_continuation_ends_on": date(2027, 1, 10),
                  "postal_code": "105-0011", "address": "東京都港区芝公園4-2-8"}
    who("任意継続で終わる", household=HouseholdFactory(**continuing), card=NO_CARD, until=date(2027, 1, 10))
    who("任意継続前に終わる", household=HouseholdFactory(**continuing), card=NO_CARD, until=date(2027, 1, 9))
    who("任意継続終了後", household=HouseholdFactory(voluntary_continuation=True,
                                                  voluntary_continuation_ends_on=T - rules.DAY), card=NO_CARD)
    # Not eligible.
    who("喪失", eligible_until=T, card=NO_CARD)
    who("取得前", eligible_from=T + rules.DAY, card=NO_CARD)


def listed(day):
    return {p.given_name: p.basis for p in ex_officio_candidates(today=day)}


def test_on_a_day_it_lists_exactly_these_people_with_their_basis(population):
    assert listed(T) == {
        "基準日当日": "cutoff",
        "基準日前・未登録": "cutoff",
        "発行希望": "enrolment_form",
        "不明・発行希望": "enrolment_form",
        "不明・個人番号未登録": "no_my_number",
        "不明・更新": "renewal",
        "個人番号未登録": "no_my_number",
        "更新・期限内": "renewal",
        "要配慮者": "renewal",
        "申請で交付・期限切れ": "renewal",
        "74歳最終日": "cutoff",
        "2月29日生": "cutoff",
        "75歳前に終わる": "renewal",
        "喪失日前に終わる": "renewal",
        "任意継続前に終わる": "renewal",
    }


def test_the_grace_listing_day_and_the_month_end_horizon(population):
    before, on = listed(BEFORE_LISTING), listed(LISTING)

    assert "期限切れ" not in before and on["期限切れ"] == "lapsed"
    assert on["期限切れ・発行希望"] == "enrolment_form"  # R6's order: basis 2 before 3
    # From 2026-12-31 the horizon is 2027-02-28 (2 months on, clamped).
    assert before["更新・月末"] == "renewal" and "更新・月末翌日" not in before
    assert before["2月29日生・上限前"] == "renewal" and "2月29日生・上限" not in before


def test_nobody_is_listed_from_the_75th_birthday_a_feb_29_birth_on_mar_1(population):
    assert "2月29日生" in listed(LAST_DAY_74)
    assert "2月29日生" not in listed(FEB29_TURNS_75)
    assert not any(rules.age_on(p.birth_date, day) >= 75 for day in DAYS for p in ex_officio_candidates(today=day))


def test_the_grace_listing_and_the_horizon_are_settings(population, settings):
    settings.KENPO_EX_OFFICIO_GRACE_MONTHS_AFTER = 3
    settings.KENPO_CERTIFICATE_RENEWAL_MONTHS = 1

    assert "期限切れ" not in listed(LISTING)
    assert listed(date(2027, 2, 1))["期限切れ"] == "lapsed"
    assert "更新・期限内" not in listed(T)  # 2027-01-25 is beyond 2026-12-25


def test_the_sql_agrees_with_the_pure_rule_on_every_day(population, settings):
    persons = Person.objects.select_related("household", "card")
    for lapsed_listed in (True, False):
        settings.KENPO_EX_OFFICIO_LAPSED = lapsed_listed
        for day in DAYS:
            expected = {p.given_name: b.value for p in persons if (b := ex_officio_basis_of(p, today=day))}
            assert listed(day) == expected, day


def test_a_batch_takes_them_off_the_list_renewals_included(population):
    from certificates import services

    before = listed(T)
    batch = services.batch_start(candidates=ex_officio_candidates(today=T), started_by=None)
    for chunk in services.batch_chunks(batch_id=batch.pk):
        services.batch_process_chunk(batch_id=batch.pk, item_ids=chunk, today=T)

    assert listed(T) == {}
    issued = EligibilityCertificate.objects.filter(batch=batch)
    assert issued.count() == len(before)
    assert not issued.filter(valid_until__lt=T).exists()
    renewed = issued.get(person__given_name="更新・期限内")
    assert renewed.basis == "renewal" and renewed.valid_until == date(2031, 11, 24)
    assert renewed.person.certificates.filter(status="void").count() == 1


def test_it_counts_the_list_per_basis_in_one_query(population, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts = ex_officio_counts(today=T)

    assert list(counts) == ["cutoff", "enrolment_form", "lapsed", "no_my_number", "renewal"]
    assert counts == {"cutoff": 4, "enrolment_form": 2, "lapsed": 0, "no_my_number": 2, "renewal": 7}


def test_the_migration_voids_the_certificates_of_people_already_75(db):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("certificates.migrations.0006_void_certificates_of_people_aged_75")
    turned = certificate(who("2月29日生・75歳", birth_date=date(1952, 2, 29)), date(2028, 1, 1))
    last_day = certificate(who("3月2日生・74歳", birth_date=date(1952, 3, 2)), date(2028, 1, 1))
    expired = certificate(who("期限切れ・75歳", birth_date=date(1950, 1, 1)), date(2027, 2, 28))

    assert migration.void_as_of(apps, today=date(2027, 3, 1)) == 1

    for cert in (turned, last_day, expired):
        cert.refresh_from_db()
    assert (turned.status, turned.void_reason) == ("void", "eligibility_ended")
    assert turned.voided_at is not None
    assert last_day.status == expired.status == "mailed"


def test_the_list_of_one_basis_is_the_same_with_its_implied_conditions(population):
    from certificates.selectors import with_basis

    for day in DAYS:
        for basis in ex_officio_counts(today=day):
            narrowed = {p.given_name for p in with_basis(ex_officio_candidates(today=day), basis, today=day)}
            assert narrowed == {name for name, b in listed(day).items() if b == basis}, (day, basis)



@pytest.mark.parametrize("query", [
    "", "basis=cutoff", "basis=no_my_number", "status=no_card", "age=70-74", "age=6-69&status=not_registered",
    "q=たかはし", "q=ﾀｶﾊｼ ハル", "q=髙橋", "household__employer__isnull=True", "household__employer__id__exact={employer}",
    "o=2&p=1&basis=cutoff",
])
def test_the_admin_list_and_the_export_find_the_same_rows(rf, admin_user, query):
    """One selector (``ex_officio_candidates(today=, filters=)``) reads the list's query
    string: the changelist Django builds from it shows exactly the rows the export writes."""
    from django.contrib import admin
    from django.http import QueryDict

    from certificates.models import ExOfficioCandidate
    from certificates.selectors import ex_officio_filters
    from eligibility.selectors import today
    from tests.factories import EmployerFactory

    employer = EmployerFactory()
    for i, (family, card) in enumerate([("高橋", NO_CARD), ("髙橋", NOT_REGISTERED), ("田中", NO_CARD)]):
        household = HouseholdFactory(employer=employer if i else None, society=employer.society)
        person(household=household, family_name=family, family_name_kana="タカハシ" if i < 2 else "タナカ",
               given_name="ハル", birth_date=date(1954, 7, 15 + i), eligible_from=date(2015, 4, 1), card=card)
    query = query.format(employer=employer.pk)
    request = rf.get(f"/admin/certificates/exofficiocandidate/?{query}")
    request.user = admin_user
    on_screen = admin.site._registry[ExOfficioCandidate].get_changelist_instance(request).get_queryset(request)
    exported = ex_officio_candidates(today=today(), filters=ex_officio_filters(QueryDict(query)))
    assert sorted(p.pk for p in exported) == sorted(p.pk for p in on_screen)
