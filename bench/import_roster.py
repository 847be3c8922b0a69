"""Benchmark: a 100,000-row roster (CP932), imported, re-imported, then 10% changed — each
confirm beside its floor, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench \
        .venv/bin/python bench/import_roster.py [--rows 100000] [--keep]

Uses the imports services exactly as the Celery jobs do (``check_run``, then
``write_run`` in one transaction) against a society of its own (保険者番号 06990099),
whose rows it removes before and after. The floor of a confirm is a ``COPY`` of the
same file into a temporary table plus one statement per table of the same columns
(``INSERT … SELECT`` into households and persons for the first import, ``UPDATE … FROM``
for the others), committed. Target: confirm ≤ 5× its floor.
"""

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenpo_portal.settings")

import django

django.setup()

import io  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from eligibility.models import Employer, Person, Society  # noqa: E402
from imports import services  # noqa: E402
from imports.models import ImportRun  # noqa: E402
from imports.parsers import ROSTER_COLUMNS  # noqa: E402

INSURER = "06990099"
ROSTER_HEADER = ",".join(list(ROSTER_COLUMNS)[:15])  # the layout without the optional columns
FAMILY = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("髙橋", "タカハシ"), ("田中", "タナカ"), ("渡邊", "ワタナベ"),
          ("伊藤", "イトウ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ")]
GIVEN = [("花子", "ハナコ", "女"), ("太郎", "タロウ", "男"), ("一郎", "イチロウ", "男"), ("陽菜", "ヒナ", "女"),
         ("蓮", "レン", "男"), ("結衣", "ユイ", "女"), ("大翔", "ヒロト", "男"), ("美咲", "ミサキ", "女")]


def clear(society: Society) -> None:
    with connection.cursor() as cursor:
        persons = "SELECT p.id FROM eligibility_person p JOIN eligibility_household h ON h.id = p.household_id WHERE h.society_id = %s"
        for table, column in (("eligibility_cardfactschange", "person_id"), ("eligibility_cardfacts", "person_id"),
                              ("eligibility_memberlink", "person_id"), ("eligibility_activationcode", "person_id")):
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({persons})", [society.pk])
        cursor.execute(f"DELETE FROM eligibility_person WHERE id IN ({persons})", [society.pk])
        cursor.execute("DELETE FROM eligibility_household WHERE society_id = %s", [society.pk])


def make_rows(count: int, rng: random.Random) -> list[list[str]]:
    rows, number = [], 0
    while len(rows) < count:
        number += 1
        symbol = str(100 + number % 200)
        family, family_kana = rng.choice(FAMILY)
        employer = f"B{number % 200:04d}"
        voluntary = "1" if number % 50 == 0 else "0"
        size = min(rng.choice((1, 1, 2, 3, 4)), count - len(rows))
        for branch in range(size):
            given, given_kana, sex = rng.choice(GIVEN)
            birth = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
            start = max(birth, date(2000, 4, 1)) + timedelta(days=rng.randrange(0, 2000))
            relationship = "本人" if branch == 0 else rng.choice(("配偶者", "子", "子", "父母"))
            rows.append([symbol, str(number), f"{branch:02d}", family, given, family_kana, given_kana, sex,
                         birth.isoformat(), relationship, employer if branch == 0 else "", start.isoformat(), "",
                         rng.choice(("0", "0", "1")), voluntary if branch == 0 else ""])
    return rows


def encode(rows: list[list[str]]) -> bytes:
    return ("\r\n".join([ROSTER_HEADER, *(",".join(r) for r in rows)]) + "\r\n").encode("cp932")


FLOOR_COLUMNS = ("symbol", "number", "branch_number", "family_name", "given_name", "family_name_kana",
                 "given_name_kana", "sex", "birth_date", "relationship", "employer_code", "eligible_from",
                 "eligible_until", "certificate_wanted", "voluntary_continuation")
PERSON_VALUES = """f.branch_number, CASE f.relationship WHEN '本人' THEN 'self' WHEN '配偶者' THEN 'spouse'
    WHEN '子' THEN 'child' ELSE 'parent' END, f.family_name, f.given_name, f.family_name_kana, f.given_name_kana,
    CASE f.sex WHEN '女' THEN 'F' ELSE 'M' END, f.birth_date::date, f.eligible_from::date,
    NULLIF(f.eligible_until, '')::date, f.certificate_wanted = '1'"""


def floor(data: bytes, society_id: int, *, create: bool) -> float:
    """COPY the file into a temporary table, then one statement per table, committed."""
    text = data.decode("cp932")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE floor_rows (" + ", ".join(f"{c} text" for c in FLOOR_COLUMNS)
                       + ") ON COMMIT DROP")
        cursor.copy_expert("COPY floor_rows FROM STDIN WITH (FORMAT csv, HEADER true)", io.StringIO(text))
        cursor.execute("ANALYZE floor_rows")  # a fair plan for the floor (the import hash-joins its rows)
        if create:
            cursor.execute(
                """INSERT INTO eligibility_household (society_id, employer_id, symbol, number, voluntary_continuation,
                       postal_code, address, email_reminders)
                   SELECT %s, e.id, f.symbol, f.number, f.voluntary_continuation = '1', '', '', TRUE
                   FROM floor_rows f LEFT JOIN eligibility_employer e ON e.society_id = %s AND e.code = f.employer_code
                   WHERE f.branch_number = '00'""", [society_id, society_id])
            cursor.execute(
                f"""INSERT INTO eligibility_person (household_id, branch_number, relationship, family_name, given_name,
                       family_name_kana, given_name_kana, sex, birth_date, eligible_from, eligible_until,
                       certificate_wanted, print_name, my_number_registered, search_text)
                    SELECT h.id, {PERSON_VALUES}, '', TRUE, f.family_name || ' ' || f.given_name || ' '
                           || f.family_name_kana || ' ' || f.given_name_kana
                    FROM floor_rows f JOIN eligibility_household h
                    ON h.society_id = %s AND h.symbol = f.symbol AND h.number = f.number""", [society_id])
        else:
            cursor.execute(
                """UPDATE eligibility_household SET employer_id = e.id,
                       voluntary_continuation = f.voluntary_continuation = '1'
                   FROM floor_rows f LEFT JOIN eligibility_employer e ON e.society_id = %s AND e.code = f.employer_code
                   WHERE f.branch_number = '00' AND eligibility_household.society_id = %s
                     AND eligibility_household.symbol = f.symbol AND eligibility_household.number = f.number""",
                [society_id, society_id])
            cursor.execute(
                f"""UPDATE eligibility_person SET (branch_number, relationship, family_name, given_name,
                       family_name_kana, given_name_kana, sex, birth_date, eligible_from, eligible_until,
                       certificate_wanted) = ({PERSON_VALUES})
                    FROM floor_rows f, eligibility_household h
                    WHERE h.society_id = %s AND h.symbol = f.symbol AND h.number = f.number
                      AND eligibility_person.household_id = h.id AND eligibility_person.branch_number = f.branch_number""",
                [society_id])
    return time.perf_counter() - started


def run(label: str, society, user, data: bytes, *, create: bool) -> None:
    if create:
        floor_seconds = floor(data, society.pk, create=True)
        clear(society)
    else:
        with connection.cursor() as cursor:  # put back after the floor (not timed)
            cursor.execute("CREATE TEMP TABLE saved_h AS SELECT * FROM eligibility_household WHERE society_id = %s",
                           [society.pk])
            cursor.execute("CREATE TEMP TABLE saved_p AS SELECT p.* FROM eligibility_person p "
                           "JOIN saved_h h ON h.id = p.household_id")
        floor_seconds = floor(data, society.pk, create=False)
        with connection.cursor() as cursor:
            cursor.execute("""UPDATE eligibility_household h SET employer_id = s.employer_id,
                                  voluntary_continuation = s.voluntary_continuation FROM saved_h s WHERE h.id = s.id""")
            cursor.execute("""UPDATE eligibility_person p SET (relationship, family_name, given_name, family_name_kana,
                                  given_name_kana, sex, birth_date, eligible_from, eligible_until, certificate_wanted)
                                = (s.relationship, s.family_name, s.given_name, s.family_name_kana, s.given_name_kana,
                                   s.sex, s.birth_date, s.eligible_from, s.eligible_until, s.certificate_wanted)
                              FROM saved_p s WHERE p.id = s.id""")
            cursor.execute("DROP TABLE saved_h; DROP TABLE saved_p")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE eligibility_household")
        cursor.execute("VACUUM ANALYZE eligibility_person")
    upload = services._store(kind="roster", society=society, upload=ContentFile(data, name="roster.csv"), user=user)
    started = time.perf_counter()
    preview = services.check_run(run_id=upload.pk)
    previewed = time.perf_counter()
    assert preview.status == "preview", preview.errors[:5]
    # A file that changes a large share is confirmed twice and (four eyes) approved: here at once.
    if services.import_confirm(run=preview, user=user, large_change_seen=True).status == ImportRun.Status.AWAITING:
        services.import_approved(run_id=preview.pk, enqueue=False)
        services.write_run(run_id=preview.pk)
    done = time.perf_counter()
    confirm = done - previewed
    print(f"{label:<28} preview {previewed - started:6.1f} s   confirm {confirm:6.1f} s   "
          f"floor {floor_seconds:5.1f} s   ratio {confirm / floor_seconds:4.1f}x (target <= 5x)   "
          f"counts {preview.counts}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="leave the imported persons in the database")
    args = parser.parse_args()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")

    society, _ = Society.objects.get_or_create(insurer_number=INSURER, defaults={"name": "ベンチ健康保険組合",
                                                                                 "address": "東京都"})
    for n in range(200):
        Employer.objects.get_or_create(society=society, code=f"B{n:04d}", defaults={"name": f"ベンチ事業所{n}"})
    user, _ = get_user_model().objects.get_or_create(username="bench-import", defaults={"is_staff": True})
    clear(society)

    rng = random.Random(20251202)
    rows = make_rows(args.rows, rng)
    data = encode(rows)
    print(f"file: {len(rows)} rows, {len(data) / 1e6:.1f} MB, CP932")

    run("first import (create)", society, user, data, create=True)
    run("same file again (no change)", society, user, data, create=False)
    for i, row in enumerate(rows):
        if i % 20 == 0:
            row[12] = "2026-04-01"  # 資格喪失日: ended
        elif i % 20 == 1:
            row[6] = "ハナコ" if row[6] != "ハナコ" else "ユイ"  # 名カナ: updated
    run("10% changed (5% ended)", society, user, encode(rows), create=False)
    print(f"persons in the bench society: {Person.objects.filter(household__society=society).count()}")
    if not args.keep:
        clear(society)


if __name__ == "__main__":
    main()
