"""Benchmark: import a 100,000-row roster (CP932), then re-import it, then a 10% change.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench \
        .venv/bin/python bench/import_roster.py [--rows 100000] [--keep]

Uses the imports services exactly as the staff pages do (preview, then confirm in
one transaction) against a society of its own (保険者番号 06990099), whose rows it
removes before and after. Target: each confirmed import under 60 s.
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

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from eligibility.models import Employer, Person, Society  # noqa: E402
from imports.parsers import ROSTER_COLUMNS  # noqa: E402
from imports.services import import_confirm, import_preview  # noqa: E402

INSURER = "06990099"
ROSTER_HEADER = ",".join(ROSTER_COLUMNS)
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


def run(label: str, society, user, data: bytes) -> None:
    started = time.monotonic()
    preview = import_preview(kind="roster", society=society, data=data, user=user)
    previewed = time.monotonic()
    assert not preview.errors, preview.errors[:5]
    import_confirm(run=preview, user=user)
    done = time.monotonic()
    print(f"{label:<28} preview {previewed - started:6.1f} s   confirm {done - previewed:6.1f} s   "
          f"total {done - started:6.1f} s   counts {preview.counts}", flush=True)


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

    run("first import (create)", society, user, data)
    run("same file again (no change)", society, user, data)
    for i, row in enumerate(rows):
        if i % 20 == 0:
            row[12] = "2026-04-01"  # 資格喪失日: ended
        elif i % 20 == 1:
            row[6] = "ハナコ" if row[6] != "ハナコ" else "ユイ"  # 名カナ: updated
    run("10% changed (5% ended)", society, user, encode(rows))
    print(f"persons in the bench society: {Person.objects.filter(household__society=society).count()}")
    if not args.keep:
        clear(society)


if __name__ == "__main__":
    main()
