from datetime import date, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from eligibility.models import CardFacts, CardFactsChange, Household, Person
from imports.models import ImportRun
from imports.services import ImportRefused, import_confirm, import_preview
from tests.factories import (
    CardFactsFactory,
    EmployerFactory,
    PersonFactory,
    SocietyFactory,
    UserFactory,
)

from .helpers import HANAKO, ICHIRO, JIRO, TARO, csv_bytes, registration, roster

pytestmark = pytest.mark.django_db


@pytest.fixture
def society():
    society = SocietyFactory()
    EmployerFactory(society=society, code="E0001")
    return society


@pytest.fixture
def clerk():
    return UserFactory(username="clerk", is_staff=True)


def preview(society, user, data, kind="roster"):
    return import_preview(kind=kind, society=society, data=data, user=user)


def snapshot():
    return (
        list(Household.objects.order_by("pk").values()),
        list(Person.objects.order_by("pk").values()),
        list(CardFacts.objects.order_by("pk").values()),
    )


def test_preview_writes_nothing_but_the_run(society, clerk):
    run = preview(society, clerk, roster(HANAKO, TARO, ICHIRO, JIRO))

    assert run.status == ImportRun.Status.PREVIEW
    assert run.counts == {"households_created": 2, "created": 4}
    assert run.errors == []
    assert [s["key"] for s in run.samples["created"]] == ["1234-5678-00", "1234-5678-01", "1234-5678-02", "1234-9999-00"]
    assert not Person.objects.exists()
    with run.file.open("rb") as stored:
        assert run.file.name.startswith("imports/") and stored.read().startswith("記号".encode())


def test_confirm_creates_households_persons_and_card_facts(society, clerk):
    run = import_confirm(run=preview(society, clerk, roster(HANAKO, TARO, ICHIRO, JIRO)), user=clerk)

    assert run.status == ImportRun.Status.CONFIRMED
    hanako = Person.objects.get(given_name="花子")
    assert hanako.household.employer.code == "E0001"
    assert (hanako.branch_number, hanako.relationship, hanako.sex) == ("00", "self", "F")
    jiro = Person.objects.get(given_name="次郎")
    # Leading zeros dropped, half-width kana widened, 枝番 padded, dates in three formats.
    assert (jiro.household.symbol, jiro.household.number, jiro.branch_number) == ("1234", "9999", "00")
    assert (jiro.family_name_kana, jiro.given_name_kana) == ("スズキ", "ジロウ")
    assert (jiro.birth_date, jiro.eligible_from) == (date(1960, 8, 31), date(2021, 9, 1))
    assert jiro.household.voluntary_continuation and jiro.household.employer is None
    assert Person.objects.get(given_name="太郎").certificate_wanted
    card = CardFacts.objects.get(person=hanako)
    assert card.has_card is None and card.effective_expires_on is None  # nobody has said yet (R5 unknown)
    assert CardFacts.objects.count() == 4
    assert AuditEntry.objects.filter(action="import", object_id=str(run.pk), summary__contains="作成4").exists()


def test_reimporting_the_same_file_changes_nothing(society, clerk):
    data = roster(HANAKO, TARO, ICHIRO, JIRO)
    import_confirm(run=preview(society, clerk, data), user=clerk)
    before = snapshot()

    again = preview(society, clerk, data)
    assert again.counts == {"unchanged": 4}
    assert again.changes == 0
    import_confirm(run=again, user=clerk)

    assert snapshot() == before


def test_it_shows_updates_and_ends_then_writes_them(society, clerk):
    import_confirm(run=preview(society, clerk, roster(HANAKO, TARO, ICHIRO)), user=clerk)
    moved = TARO.replace("サトウ,タロウ", "サトウ,タロー")
    ended = ICHIRO.replace("2005-04-02,,0,0", "2005-04-02,2026-04-01,0,0")

    run = preview(society, clerk, roster(HANAKO, moved, ended))

    assert run.counts == {"unchanged": 1, "updated": 1, "ended": 1}
    assert run.samples["updated"][0]["changes"] == [{"field": "名カナ", "before": "タロウ", "after": "タロー"}]
    assert run.samples["ended"][0] == {"line": 4, "key": "1234-5678-02", "name": "佐藤 一郎", "changes": [
        {"field": "資格喪失日", "before": "なし", "after": "2026-04-01"}]}
    assert run.kinds == {"given_name_kana": 1, "eligible_until": 1}
    import_confirm(run=run, user=clerk)
    assert Person.objects.get(given_name="太郎").given_name_kana == "タロー"
    assert Person.objects.get(given_name="一郎").eligible_until == date(2026, 4, 1)


def test_a_bad_row_aborts_everything(society, clerk):
    bad = ICHIRO.replace("男", "不明")
    run = preview(society, clerk, roster(HANAKO, TARO, bad, JIRO))

    assert run.errors == [{"line": 4, "message": "性別「不明」は 男/女（1/2）で入力してください。"}]
    assert run.status == ImportRun.Status.REFUSED and run.error_count == 1
    assert not run.can_confirm
    with pytest.raises(ImportRefused):
        import_confirm(run=run, user=clerk)
    assert not Person.objects.exists() and not Household.objects.exists()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.REFUSED


def test_a_failure_while_writing_rolls_everything_back(society, clerk, monkeypatch):
    run = preview(society, clerk, roster(HANAKO, TARO, ICHIRO, JIRO))

    from imports import roster as roster_sql

    real = roster_sql.insert_select

    def explode_at_the_card_facts(model, given):
        # Households and persons are already inserted by then.
        if model is CardFacts:
            raise RuntimeError("disk full")
        return real(model, given)

    monkeypatch.setattr(roster_sql, "insert_select", explode_at_the_card_facts)
    with pytest.raises(ImportRefused, match="何も書き込んでいません"):
        import_confirm(run=run, user=clerk)
    assert not Household.objects.exists() and not Person.objects.exists()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and not run.file


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (HANAKO.replace("1985-11-14", "1985-13-01"), "生年月日「1985-13-01」は日付として読めません"),
        (HANAKO.replace("佐藤,花子", ",花子"), "氏が空です"),
        (HANAKO.replace("サトウ", "さとう"), "氏カナ「さとう」はカタカナで入力してください"),
        (HANAKO.replace("本人", "いとこ"), "続柄「いとこ」は"),
        (HANAKO.replace("E0001", "E9999"), "事業所番号「E9999」は登録されていません"),
        (HANAKO.replace("2010-04-01,", "2010-04-01,2010-04-01"), "資格喪失日は資格取得日より後"),
        (HANAKO.replace("1234,5678", "12a4,5678"), "記号「12a4」は数字ではありません"),
        (HANAKO.replace("1234,5678", "123456789,5678"), "記号「123456789」が8桁を超えています"),
        (HANAKO.replace(",00,", ",100,"), "枝番「100」は2桁までの数字"),
        (HANAKO.replace("花子", "花子 1234 5678 9018"), "個人番号（マイナンバー）のような12桁の数字"),
        (HANAKO.replace(",0,0", ",2,0"), "資格確認書発行要否「2」は"),
    ],
)
def test_it_explains_each_bad_row_in_japanese(society, clerk, line, reason):
    run = preview(society, clerk, roster(line))

    assert len(run.errors) == 1
    assert run.errors[0]["line"] == 2
    assert reason in run.errors[0]["message"]


def test_it_refuses_a_my_number_in_any_column_without_echoing_it(society, clerk):
    run = preview(society, clerk, roster(HANAKO.replace(",0,0", ",0,123456789018")))

    assert run.errors[0]["line"] == 2
    assert "123456789018" not in str(run.errors)
    assert not run.file  # a file with a refused row is never stored


def test_it_never_repeats_a_my_number_written_as_a_column_title(society, clerk):
    from .helpers import ROSTER_HEADER, csv_bytes

    run = preview(society, clerk, csv_bytes(ROSTER_HEADER + ",123456789018", HANAKO + ",x"))
    assert run.status == ImportRun.Status.FAILED
    assert "123456789018" not in run.failure + str(run.errors)
    assert not run.file


def test_the_upload_is_deleted_once_confirmed(society, clerk, django_capture_on_commit_callbacks):
    run = preview(society, clerk, roster(HANAKO))
    assert run.file
    path = run.file.path
    with django_capture_on_commit_callbacks(execute=True):
        import_confirm(run=run, user=clerk)
    run.refresh_from_db()
    assert not run.file
    import os

    assert not os.path.exists(path)


def test_it_refuses_the_same_person_twice_and_two_insured_persons(society, clerk):
    second_self = TARO.replace("配偶者", "本人")
    run = preview(society, clerk, roster(HANAKO, HANAKO, second_self))

    assert run.errors == [
        {"line": 3, "message": "記号・番号・枝番が2行目と重複しています。"},
        {"line": 4, "message": "同じ記号・番号の本人が2行目にもいます。"},
    ]


def test_it_refuses_a_header_that_is_not_the_layout(society, clerk):
    data = "記号,番号,枝番,個人番号\r\n1,2,00,x\r\n".encode()
    run = preview(society, clerk, data)

    assert run.status == ImportRun.Status.FAILED
    assert "足りない列: 氏" in run.errors[0]["message"]
    assert "不明な列: 個人番号" in run.errors[0]["message"]


def test_it_accepts_header_spelling_variants(society, clerk):
    header = "記号,番号,枝番,氏,名,氏（カナ）,名（カナ）,性別,生年月日,続柄,事業所番号,資格取得日,資格喪失日,資格確認書の発行希望,任意継続"
    data = (header + "\r\n" + HANAKO + "\r\n").encode()

    assert preview(society, clerk, data).counts == {"households_created": 1, "created": 1}


@pytest.mark.parametrize(("encoding", "bom", "found"), [
    ("utf-8", False, "utf-8"), ("utf-8", True, "utf-8-sig"), ("cp932", False, "cp932"),
])
def test_it_detects_the_encoding(society, clerk, encoding, bom, found):
    # 髙 and ① are in CP932 but not in Shift_JIS proper.
    line = HANAKO.replace("佐藤,花子", "髙橋,花子①")
    run = preview(society, clerk, roster(line, encoding=encoding, bom=bom))

    assert run.encoding == found
    assert run.errors == []
    import_confirm(run=run, user=clerk)
    assert Person.objects.get().name == "髙橋 花子①"


def test_it_refuses_a_file_in_an_unknown_encoding(society, clerk):
    run = preview(society, clerk, b"\x82\xa0\xff\xfe\x00\x81")

    assert run.status == ImportRun.Status.FAILED
    assert "文字コードを判別できません" in run.errors[0]["message"]


def test_it_refuses_to_confirm_twice(society, clerk):
    run = import_confirm(run=preview(society, clerk, roster(HANAKO)), user=clerk)

    with pytest.raises(ImportRefused, match="すでに確定"):
        import_confirm(run=run, user=clerk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.CONFIRMED


def test_it_refuses_a_preview_made_stale_by_a_later_import(society, clerk):
    first = preview(society, clerk, roster(HANAKO))
    second = preview(society, clerk, roster(HANAKO))
    import_confirm(run=first, user=clerk)

    with pytest.raises(ImportRefused, match="プレビューの後にデータが変わりました"):
        import_confirm(run=second, user=clerk)
    assert Person.objects.count() == 1


def test_existing_persons_keep_their_card_facts(society, clerk):
    import_confirm(run=preview(society, clerk, roster(HANAKO)), user=clerk)
    card = CardFacts.objects.get()
    card.has_card, card.card_expires_on, card.registered = True, date(2031, 11, 14), True
    card.save()

    import_confirm(run=preview(society, clerk, roster(HANAKO.replace(",0,0", ",1,0"))), user=clerk)

    card.refresh_from_db()
    assert card.has_card and card.registered and card.effective_expires_on == date(2031, 11, 14)


# --- Registration status -------------------------------------------------------------


@pytest.fixture
def hanako(society):
    person = PersonFactory(household__society=society, household__symbol="1234", household__number="5678",
                           branch_number="00")
    CardFactsFactory(person=person, has_card=True, registered=False, registration_source="",
                     card_expires_on=date(2031, 11, 14), ecert_expires_on=date(2026, 11, 14))
    return person


def test_registration_file_updates_registration_with_its_source(society, clerk, hanako):
    run = preview(society, clerk, registration("1234,5678,00,登録済,2026-10-31"), kind="registration")
    assert run.counts == {"updated": 1}
    import_confirm(run=run, user=clerk)

    card = CardFacts.objects.get(person=hanako)
    assert card.registered
    assert (card.registration_source, card.registration_as_of) == ("national_file", date(2026, 10, 31))
    change = CardFactsChange.objects.get(person=hanako)
    assert change.source == "national_file"
    assert change.after["registered"] is True


def test_registration_file_is_idempotent(society, clerk, hanako):
    data = registration("1234,5678,00,1,2026-10-31")
    import_confirm(run=preview(society, clerk, data, kind="registration"), user=clerk)
    before = snapshot()

    again = preview(society, clerk, data, kind="registration")
    assert again.counts == {"unchanged": 1}
    import_confirm(run=again, user=clerk)
    assert snapshot() == before
    assert CardFactsChange.objects.count() == 1


def test_a_newer_member_statement_is_kept(society, clerk, hanako):
    CardFacts.objects.filter(person=hanako).update(
        registered=True, registration_source="member", registration_as_of=date(2026, 11, 5)
    )
    run = preview(society, clerk, registration("1234,5678,00,未登録,2026-10-31"), kind="registration")

    assert run.counts == {"kept": 1}
    assert run.samples["kept"][0]["stated_on"] == "2026-11-05"
    import_confirm(run=run, user=clerk)
    card = CardFacts.objects.get(person=hanako)
    assert card.registered and card.registration_source == "member"


def test_a_member_statement_without_a_date_counts_from_its_update(society, clerk, hanako):
    CardFacts.objects.filter(person=hanako).update(
        registered=True, registration_source="member", registration_as_of=None,
        updated_at=timezone.now(),
    )
    older = (timezone.localdate() - timedelta(days=1)).isoformat()
    run = preview(society, clerk, registration(f"1234,5678,00,0,{older}"), kind="registration")

    assert run.counts == {"kept": 1}


def test_an_older_member_statement_is_overwritten(society, clerk, hanako):
    CardFacts.objects.filter(person=hanako).update(
        registered=False, registration_source="member", registration_as_of=date(2026, 9, 1)
    )
    import_confirm(run=preview(society, clerk, registration("1234,5678,00,1,2026-10-31"), kind="registration"),
                   user=clerk)

    card = CardFacts.objects.get(person=hanako)
    assert card.registered and card.registration_source == "national_file"


def test_an_older_file_does_not_overwrite_a_newer_file(society, clerk, hanako):
    import_confirm(run=preview(society, clerk, registration("1234,5678,00,1,2026-10-31"), kind="registration"),
                   user=clerk)
    run = preview(society, clerk, registration("1234,5678,00,0,2026-09-30"), kind="registration")

    assert run.counts == {"kept": 1}


def test_registration_gives_a_card_to_a_person_without_card_facts(society, clerk, hanako):
    dependent = PersonFactory(household=hanako.household, branch_number="01", relationship="spouse")
    import_confirm(run=preview(society, clerk, registration("1234,5678,01,1,2026-10-31"), kind="registration"),
                   user=clerk)

    card = CardFacts.objects.get(person=dependent)
    assert card.has_card and card.registered and card.registration_as_of == date(2026, 10, 31)


def test_unknown_persons_are_errors_and_block_the_file(society, clerk, hanako):
    run = preview(society, clerk, registration("1234,5678,00,1,2026-10-31", "1234,5678,07,1,2026-10-31"),
                  kind="registration")

    assert run.errors == [{"line": 3, "message": "記号・番号・枝番「1234-5678-07」の加入者が見つかりません。"}]
    with pytest.raises(ImportRefused):
        import_confirm(run=run, user=clerk)
    assert not CardFacts.objects.get(person=hanako).registered


def test_the_same_person_twice_in_a_registration_file_is_refused(society, clerk, hanako):
    run = preview(society, clerk, registration("1234,5678,00,1,2026-10-31", "1234,5678,00,0,2026-10-31",
                                               "1234,5678,07,1,2026-10-31", "1234,5678,07,1,2026-10-31"),
                  kind="registration")

    # The second row of a known person repeats the first; a key nobody has is not found, each time.
    assert run.status == ImportRun.Status.REFUSED
    assert run.errors == [
        {"line": 3, "message": "記号・番号・枝番が2行目と重複しています。"},
        {"line": 4, "message": "記号・番号・枝番「1234-5678-07」の加入者が見つかりません。"},
        {"line": 5, "message": "記号・番号・枝番「1234-5678-07」の加入者が見つかりません。"},
    ]
    assert not CardFacts.objects.get(person=hanako).registered


def test_the_preview_samples_only_the_outcomes_it_found(society, clerk, hanako):
    run = preview(society, clerk, registration("1234,5678,00,1,2026-10-31"), kind="registration")

    assert run.counts == {"updated": 1}
    assert run.kinds == {"new_registered": 1}
    assert list(run.samples) == ["new_registered"]
    assert run.samples["new_registered"] == [{
        "line": 2, "key": "1234-5678-00", "registered": True, "as_of": "2026-10-31", "changes": [
            {"field": "利用登録状況", "before": "記録なし", "after": "登録済"},
            {"field": "基準日", "before": "なし", "after": "2026-10-31"},
            {"field": "出所", "before": "なし", "after": "月次の登録状況ファイル"},
        ]}]


def test_registration_status_values_and_dates_are_checked(society, clerk, hanako):
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    run = preview(society, clerk, registration("1234,5678,00,はい,2026-10-31", f"1234,5678,00,1,{future}"),
                  kind="registration")

    assert [e["line"] for e in run.errors] == [2, 3]
    assert "利用登録状況「はい」" in run.errors[0]["message"]
    assert "未来の日付" in run.errors[1]["message"]


def test_imported_names_are_found_by_the_folded_search(society, clerk):
    from core.kana import fold_all

    import_confirm(run=preview(society, clerk, roster(HANAKO, TARO)), user=clerk)
    taro = Person.objects.get(given_name="太郎")
    assert taro.search_text == fold_all("佐藤太郎", "サトウタロウ", "")  # names run together
    Person.objects.filter(given_name="花子").update(print_name="佐藤 華子")

    moved = TARO.replace("サトウ,タロウ", "サトウ,タロー")
    import_confirm(run=preview(society, clerk, roster(HANAKO.replace("ハナコ", "ハナ"), moved)), user=clerk)

    taro.refresh_from_db()
    assert taro.search_text == fold_all("佐藤太郎", "サトウタロー", "")
    hanako = Person.objects.get(given_name="花子")
    assert hanako.search_text == fold_all("佐藤花子", "サトウハナ", "佐藤 華子")


def test_a_clean_files_summary_counts_and_samples_as_the_full_classification(society, clerk, monkeypatch):
    from django.db import connection, transaction

    from imports import registration as checks

    if connection.vendor != "postgresql":
        pytest.skip("SQLite always takes the full classification")
    monkeypatch.setattr(checks, "SAMPLE_SIZE", 2)
    as_of = date(2026, 10, 31)
    lines = []
    for n, (facts, registered) in enumerate([
        (None, 1), ({"registered": False, "registration_source": ""}, 1),  # a new card, updated
        ({"registered": True, "registration_source": "national_file", "registration_as_of": as_of}, 1),  # unchanged
        ({"registered": True, "registration_source": "member", "registration_as_of": as_of}, 0),  # kept (the tie)
        ({"registered": True, "registration_source": "staff", "registration_as_of": date(2026, 11, 2)}, 0),  # kept
        ({"registered": False, "registration_source": "staff", "registration_as_of": date(2026, 9, 1)}, 1),  # updated
        ({"registered": False, "registration_source": ""}, 0),  # updated
    ], start=1):
        person = PersonFactory(household__society=society, household__symbol="77", household__number=str(n),
                               branch_number="00")
        if facts:
            CardFactsFactory(person=person, **facts)
        lines.append(f"77,{n},00,{registered},{as_of.isoformat()}")

    run = preview(society, clerk, registration(*lines), kind="registration")

    with transaction.atomic():
        checks.classify(run.pk, society.pk)
        checks.mark_duplicates()
        counts, kinds, bad = checks.tally()
        samples = checks.samples(kinds, counts)
        checks.done()
    assert (run.counts, run.kinds, run.error_count, run.samples) == (counts, kinds, bad, samples)
    assert run.counts == {"updated": 4, "unchanged": 1, "kept": 2}
    assert run.kinds == {"to_registered": 1, "new_registered": 2, "new_unregistered": 1}
    assert [s["line"] for s in run.samples["new_registered"]] == [2, 3]
    assert run.samples["to_registered"][0]["changes"] == [
        {"field": "利用登録状況", "before": "未登録", "after": "登録済"},
        {"field": "基準日", "before": "2026-09-01", "after": "2026-10-31"},
        {"field": "出所", "before": "職員の入力", "after": "月次の登録状況ファイル"}]
    assert [(s["line"], s["source"]) for s in run.samples["kept"]] == [(5, "本人の申告"), (6, "職員の入力")]


def test_the_same_person_twice_is_refused_even_when_the_rows_differ(society, clerk, hanako):
    CardFacts.objects.filter(person=hanako).update(registered=True, registration_source="national_file",
                                                   registration_as_of=date(2026, 10, 31))
    # The first row is the file already imported (unchanged), the second an older one (kept).
    run = preview(society, clerk, registration("1234,5678,00,1,2026-10-31", "1234,5678,00,0,2026-09-30"),
                  kind="registration")

    assert run.status == ImportRun.Status.REFUSED
    assert run.errors == [{"line": 3, "message": "記号・番号・枝番が2行目と重複しています。"}]


# --- Day one of a society: a roster only, then the first registration-status file (R5) --------


@pytest.mark.parametrize(("cell", "status"), [("未登録", "no_card"), ("登録済", "active")])
def test_after_a_roster_only_import_nobody_reads_no_card_as_a_fact_until_the_file_says(society, clerk, cell, status):
    from eligibility.selectors import eligible_on, with_status

    import_confirm(run=preview(society, clerk, roster(HANAKO, TARO)), user=clerk)
    day = date(2026, 12, 10)

    def statuses():
        return dict(with_status(Person.objects.filter(eligible_on(day)), day=day).values_list("given_name", "status"))

    assert set(statuses().values()) == {"unknown"}
    import_confirm(run=preview(society, clerk, registration(f"1234,5678,00,{cell},2026-11-30"), kind="registration"),
                   user=clerk)
    assert statuses() == {"花子": status, "太郎": "unknown"}  # a row in the file: known; no row: still unknown


# --- A delta file changes only what it says ------------------------------------------

FULL_HEADER = ("記号,番号,枝番,氏,名,氏カナ,名カナ,性別,生年月日,続柄,事業所番号,資格取得日,資格喪失日,"
               "資格確認書発行要否,任意継続,任意継続終了日,郵便番号,住所,個人番号登録")


def full_roster(*lines: str) -> bytes:
    return csv_bytes(FULL_HEADER, *lines)


def households():
    return {f"{h.symbol}-{h.number}": (h.employer.code if h.employer else None, h.voluntary_continuation,
                                       h.voluntary_continuation_ends_on, h.postal_code, h.address)
            for h in Household.objects.select_related("employer")}


def test_a_delta_file_with_only_a_new_dependent_leaves_the_household_as_it_is(society, clerk):
    import_confirm(run=preview(society, clerk, full_roster(
        "1234,5678,00,佐藤,花子,サトウ,ハナコ,女,1985-11-14,本人,E0001,2010-04-01,,0,0,,100-0001,東京都千代田区1-1,済",
        "1234,9999,00,鈴木,次郎,スズキ,ジロウ,男,1960-08-31,本人,,2025-09-01,,0,1,2027-08-31,150-0001,東京都渋谷区2-2,済",
    )), user=clerk)
    before = households()

    # The monthly delta: a baby born into each household, and nothing about their 本人.
    run = preview(society, clerk, full_roster(
        "1234,5678,03,佐藤,桜,サトウ,サクラ,女,2026-11-01,子,,2026-11-01,,1,0,,,,",
        "1234,9999,01,鈴木,蓮,スズキ,レン,男,2026-11-02,子,,2026-11-02,,1,0,,,,",
    ))

    assert run.counts == {"created": 2}
    assert "households_updated" not in run.samples
    import_confirm(run=run, user=clerk)
    assert households() == before
    assert Person.objects.filter(household__number="9999").count() == 2


def test_a_dependent_row_naming_another_employer_than_the_stored_household_is_refused(society, clerk):
    EmployerFactory(society=society, code="E0002")
    import_confirm(run=preview(society, clerk, roster(HANAKO)), user=clerk)

    run = preview(society, clerk, roster("1234,5678,03,佐藤,桜,サトウ,サクラ,女,2026-11-01,子,E0002,2026-11-01,,1,0"))

    assert run.status == ImportRun.Status.REFUSED
    assert run.errors == [{"line": 2, "message": "事業所番号が登録済みの世帯の事業所番号（E0001）と違います。"
                                                 "世帯の事業所を変えるときは本人の行に書いてください。"}]
    assert households()["1234-5678"][0] == "E0001"


# --- The preview counts real changes, by kind ----------------------------------------


def test_the_registration_preview_counts_each_kind_of_change_apart(society, clerk, settings):
    """The monthly file restates everyone's status with a new 基準日: only a flip is a change of status."""
    old_day, new_day = date(2026, 9, 30), date(2026, 10, 31)
    for n, registered in enumerate([True, True, False, True, False], start=1):
        person = PersonFactory(household__society=society, household__employer=None, household__symbol="88",
                               household__number=str(n), branch_number="00")
        CardFactsFactory(person=person, has_card=True, registered=registered, registration_source="national_file",
                         registration_as_of=old_day)
    # 1 and 3 flip; 2, 4 and 5 only get the newer 基準日.
    run = preview(society, clerk, registration(*(f"88,{n},00,{r},{new_day}" for n, r in
                                                 [(1, 0), (2, 1), (3, 1), (4, 1), (5, 0)])), kind="registration")

    assert run.counts == {"updated": 5}
    assert run.kinds == {"to_unregistered": 1, "to_registered": 1, "as_of_only": 3}
    assert run.samples["to_unregistered"][0]["changes"] == [
        {"field": "利用登録状況", "before": "登録済", "after": "未登録"},
        {"field": "基準日", "before": "2026-09-30", "after": "2026-10-31"}]
    assert (run.population, run.overwrites, run.overwrites_percent) == (5, 2, 40.0)
    settings.KENPO_IMPORT_LARGE_CHANGE_PERCENT = 39.9
    assert run.is_large_change
    settings.KENPO_IMPORT_LARGE_CHANGE_PERCENT = 40
    assert not run.is_large_change


def test_a_past_end_of_voluntary_continuation_is_shown_as_loss_of_eligibility(society, clerk):
    vc = ("1234,9999,00,鈴木,次郎,スズキ,ジロウ,男,1960-08-31,本人,,2024-09-01,,0,1,2026-08-31,,,済",
          "1234,9999,01,鈴木,春子,スズキ,ハルコ,女,1962-03-03,配偶者,,2024-09-01,,0,0,,,,")
    import_confirm(run=preview(society, clerk, full_roster(*vc)), user=clerk)

    run = preview(society, clerk, full_roster(*vc))

    assert run.counts == {"lapsed": 2}
    assert [s["key"] for s in run.samples["lapsed"]] == ["1234-9999-00", "1234-9999-01"]
    import_confirm(run=run, user=clerk)
    assert not Person.objects.get(given_name="春子").is_eligible_on(date(2026, 9, 1))
