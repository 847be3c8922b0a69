"""One import scenario touching every outcome, and a snapshot of what it wrote.

Run in-process on PostgreSQL and in a subprocess on SQLite by
``test_databases.py``: both must write exactly the same (the SQLite path builds the
history rows in Python, PostgreSQL in SQL). Dates are fixed and in the past.

    python -m imports.tests.scenario   # prints the snapshot as JSON (DATABASE_URL decides where)
"""

from datetime import UTC, date, datetime

ROSTER_HEADER = ("記号,番号,枝番,氏,名,氏カナ,名カナ,性別,生年月日,続柄,事業所番号,資格取得日,資格喪失日,"
                 "資格確認書発行要否,任意継続,任意継続終了日,郵便番号,住所,個人番号登録")
FIRST_ROSTER = [
    "11,1,00,佐藤,花子,サトウ,ハナコ,女,1985-11-14,本人,E1,2010-04-01,,0,0,,100-0001,東京都千代田区1-1,済",
    "11,1,01,佐藤,太郎,サトウ,タロウ,男,1984-02-29,配偶者,,2012-06-01,,1,0,,,,未",
    "11,1,02,佐藤,一郎,サトウ,イチロウ,男,2005-04-02,子,,2005-04-02,,0,0,,,,",
    "11,1,03,佐藤,次子,サトウ,ツギコ,女,2007-07-07,子,,2007-07-07,,0,0,,,,",
    "11,1,04,佐藤,三郎,サトウ,サブロウ,男,2010-01-31,子,,2010-01-31,,0,0,,,,",
    "22,2,00,鈴木,次郎,スズキ,ジロウ,男,1960-08-31,本人,,2025-09-01,,0,1,2027-08-31,〒150-0001,東京都渋谷区2-2,済",
    "22,2,01,鈴木,春子,スズキ,ハルコ,女,1962-03-03,配偶者,,2025-09-01,,0,0,,,,",
]
# Without the optional columns: the household's address and 任意継続終了日 stay as stored.
SECOND_ROSTER_HEADER = "記号,番号,枝番,氏,名,氏カナ,名カナ,性別,生年月日,続柄,事業所番号,資格取得日,資格喪失日,資格確認書発行要否,任意継続"
SECOND_ROSTER = [
    "11,1,00,佐藤,花子,サトウ,ハナコ,女,1985-11-14,本人,E2,2010-04-01,,0,0",  # employer moves
    "11,1,01,佐藤,太郎,サトウ,タロー,男,1984-02-29,配偶者,,2012-06-01,,1,0",  # kana changes
    "11,1,02,佐藤,一郎,サトウ,イチロウ,男,2005-04-02,子,,2005-04-02,2026-04-01,0,0",  # ends
    "11,1,03,佐藤,次子,サトウ,ツギコ,女,2007-07-07,子,,2007-07-07,,0,0",  # unchanged
    "33,3,00,田中,一,タナカ,ハジメ,男,1990-01-01,本人,E1,2020-04-01,,0,0",  # a new household
]
REGISTRATION = [
    "11,1,00,1,2026-10-31",  # card known with its dates, registration arrives: derived dates appear
    "11,1,01,0,2026-10-31",  # the member said registered on the same day: kept (the tie rule)
    "11,1,02,1,2026-10-31",  # staff said something older: updated
    "11,1,03,1,2026-10-31",  # the same national file before: unchanged
    "11,1,04,1,2026-10-31",  # no card facts: a new card
    "22,2,00,0,2026-10-31",  # a newer national file: kept
    "22,2,01,1,2026-10-31",  # card facts with nothing known: updated
    "33,3,00,0,2026-10-31",  # not registered, no card: updated (registration source and day)
]


def _csv(header: str, lines: list[str]) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")


def run() -> dict:
    from django.test import override_settings

    # A small society: any file changes a large share of it (the warning and four eyes: their own tests).
    with override_settings(KENPO_IMPORT_LARGE_CHANGE_PERCENT=1000):
        return _run()


def _run() -> dict:
    from eligibility.models import CardFacts, Employer, Society
    from imports.services import import_confirm, import_preview
    from tests.factories import UserFactory

    society = Society.objects.create(insurer_number="06130001", name="比較健康保険組合", address="東京都")
    for code in ("E1", "E2"):
        Employer.objects.create(society=society, code=code, name=f"事業所{code}")
    clerk = UserFactory(username="scenario-clerk", is_staff=True)

    def imported(kind: str, data: bytes) -> None:
        run = import_preview(kind=kind, society=society, data=data, user=clerk)
        assert run.status == "preview", (run.status, run.errors)
        import_confirm(run=run, user=clerk)

    imported("roster", _csv(ROSTER_HEADER, FIRST_ROSTER))
    imported("roster", _csv(SECOND_ROSTER_HEADER, SECOND_ROSTER))

    def card(branch: str, symbol: str = "11", number: str = "1"):
        return CardFacts.objects.filter(person__household__symbol=symbol, person__household__number=number,
                                        person__branch_number=branch)

    stamp = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    card("00").update(has_card=False, card_expires_on=date(2031, 11, 14), ecert_expires_on=date(2026, 11, 14),
                      updated_at=stamp)
    card("01").update(has_card=True, registered=True, registration_source="member",
                      registration_as_of=date(2026, 10, 31), updated_at=stamp)
    card("02").update(registered=False, registration_source="staff", registration_as_of=None,
                      updated_at=datetime(2026, 9, 30, 1, 0, tzinfo=UTC))
    card("03").update(has_card=True, registered=True, registration_source="national_file",
                      registration_as_of=date(2026, 10, 31), updated_at=stamp)
    card("04").delete()
    card("00", "22", "2").update(registered=True, registration_source="national_file",
                                 registration_as_of=date(2026, 11, 15), updated_at=stamp)
    imported("registration", _csv("記号,番号,枝番,利用登録状況,基準日", REGISTRATION))
    return snapshot(society)


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    return value


def snapshot(society) -> dict:
    from eligibility.models import CardFacts, CardFactsChange, Household, Person
    from imports.models import ImportRun

    households = {
        f"{h.symbol}-{h.number}": {
            "employer": h.employer.code if h.employer else None,
            **{f: _plain(getattr(h, f)) for f in ("voluntary_continuation", "voluntary_continuation_ends_on",
                                                   "postal_code", "address", "email_reminders")},
        }
        for h in Household.objects.filter(society=society).select_related("employer")
    }
    persons = {}
    for p in Person.objects.filter(household__society=society).select_related("household"):
        key = f"{p.household.symbol}-{p.household.number}-{p.branch_number}"
        persons[key] = {f.attname: _plain(getattr(p, f.attname)) for f in Person._meta.concrete_fields
                        if f.attname not in ("id", "household_id")}
        facts = CardFacts.objects.filter(person=p).first()
        persons[key]["card"] = None if facts is None else {
            f.attname: _plain(getattr(facts, f.attname)) for f in CardFacts._meta.concrete_fields
            if f.attname not in ("person_id", "updated_at", "updated_by_id")
        }
        persons[key]["history"] = [
            {"source": c.source, "before": c.before, "after": c.after,
             "by": c.changed_by.username if c.changed_by else None}
            for c in CardFactsChange.objects.filter(person=p).order_by("pk")
        ]
    runs = [{"kind": r.kind, "status": r.status, "counts": r.counts, "samples": r.samples, "errors": r.errors}
            for r in ImportRun.objects.filter(society=society).order_by("pk")]
    return {"households": households, "persons": persons, "runs": runs}


if __name__ == "__main__":
    import json
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenpo_portal.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(run(), ensure_ascii=False, sort_keys=True))
