"""A believable demo society: employers, households of insured persons and
dependents, Japanese names in kanji and kana, and cards in every R5 status.

Generation is deterministic (a seeded random) and streams rows in chunks, so a
million persons fit in little memory; ``eligibility.management.commands.seed_demo``
writes them with COPY on PostgreSQL and bulk_create elsewhere.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from . import rules

FAMILY_NAMES = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
    ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"),
    ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"), ("阿部", "アベ"),
    ("石川", "イシカワ"), ("前田", "マエダ"), ("藤田", "フジタ"), ("岡田", "オカダ"), ("後藤", "ゴトウ"),
]
MALE_NAMES = [
    ("健一", "ケンイチ"), ("誠", "マコト"), ("大輔", "ダイスケ"), ("翔太", "ショウタ"), ("拓也", "タクヤ"),
    ("浩", "ヒロシ"), ("隆", "タカシ"), ("修", "オサム"), ("蓮", "レン"), ("湊", "ミナト"),
    ("悠真", "ユウマ"), ("大和", "ヤマト"), ("茂", "シゲル"), ("勇", "イサム"), ("和夫", "カズオ"),
]
FEMALE_NAMES = [
    ("花子", "ハナコ"), ("陽子", "ヨウコ"), ("美咲", "ミサキ"), ("由美", "ユミ"), ("恵子", "ケイコ"),
    ("愛", "アイ"), ("真由美", "マユミ"), ("陽菜", "ヒナ"), ("結衣", "ユイ"), ("さくら", "サクラ"),
    ("芽依", "メイ"), ("和子", "カズコ"), ("幸子", "サチコ"), ("節子", "セツコ"), ("智子", "トモコ"),
]
EMPLOYERS = [
    ("東和精機株式会社 本社", "東京都千代田区大手町1-2-3"),
    ("東和精機株式会社 大阪工場", "大阪府堺市堺区築港八幡町1"),
    ("東和精機株式会社 名古屋支店", "愛知県名古屋市中村区名駅3-4-5"),
    ("東和ロジスティクス株式会社", "神奈川県横浜市西区みなとみらい2-2-1"),
    ("東和システムサービス株式会社", "東京都江東区豊洲3-3-3"),
    ("東和精機株式会社 九州営業所", "福岡県福岡市博多区博多駅前2-1-1"),
    ("東和テクノ株式会社", "埼玉県さいたま市大宮区桜木町1-7-5"),
    ("東和精機株式会社 仙台営業所", "宮城県仙台市青葉区中央1-1-1"),
]
SOCIETY = {"insurer_number": "06130012", "name": "東和精機健康保険組合", "address": "東京都千代田区大手町1-2-3 東和ビル5階", "phone": "03-1234-5678"}


@dataclass
class DemoPerson:
    household_index: int
    branch_number: str
    relationship: str
    family_name: str
    family_name_kana: str
    given_name: str
    given_name_kana: str
    sex: str
    birth_date: date
    eligible_from: date
    eligible_until: date | None
    certificate_wanted: bool
    my_number_registered: bool
    # card facts
    has_card: bool
    card_expires_on: date | None
    ecert_expires_on: date | None
    registered: bool
    uses_smartphone: bool


@dataclass
class DemoHousehold:
    index: int
    employer_index: int
    symbol: str
    number: str
    voluntary_continuation: bool
    persons: list[DemoPerson]
    voluntary_continuation_ends_on: date | None = None


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _card_facts(rng: random.Random, birth: date, today: date) -> tuple:
    """(has_card, card_expires_on, ecert_expires_on, registered, smartphone), spread over every R5 status."""
    roll = rng.random()
    if roll < 0.12:
        return False, None, None, False, False
    first_possible = max(date(2016, 1, 4), birth + timedelta(days=30))
    if first_possible > today - timedelta(days=7):
        return False, None, None, False, False  # a newborn: no card yet
    issued = _random_date(rng, first_possible, today - timedelta(days=7))
    card = rules.card_expiry(birth, issued)
    ecert = rules.ecert_expiry(birth, issued, card_expires_on=card)
    if ecert < today - timedelta(days=150) and rng.random() < 0.9:
        ecert = card  # renewed in time: a renewal ends with the card (R2)
    if card < today - timedelta(days=150) and rng.random() < 0.9:
        # The card itself was renewed: a new card issued around its expiry.
        reissued = card - timedelta(days=rng.randrange(1, 80))
        card = rules.card_expiry(birth, reissued)
        ecert = rules.ecert_expiry(birth, reissued, card_expires_on=card)
    registered = roll > 0.22
    return True, card, ecert, registered, registered and rng.random() < 0.15


def _under_75(rng: random.Random, birth: date, today: date) -> date:
    """``birth``, or a birth 70–74 years before ``today`` if that one is aged 75 or over:
    nobody in the society is 75+ (R11), so neither is anybody in the demo."""
    if rules.age_on(birth, today) < rules.LATE_ELDERLY_AGE:
        return birth
    return _random_date(rng, rules.add_months(today, -12 * 75) + timedelta(days=30), rules.add_months(today, -12 * 70))


def generate(*, persons: int, today: date, seed: int = 20251202) -> Iterator[DemoHousehold]:
    """Households until ``persons`` persons have been produced: everyone under 75 on
    ``today`` (R11), nobody eligible before their birth, and every R6 basis present
    (with the certificates ``seed_demo`` adds for the renewals: ``certificates.demo``)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    made = 0
    index = 0
    oldest = rules.add_months(today, -12 * 74)  # the oldest insured person is 73–74
    youngest = rules.add_months(today, -12 * 18 - 6)
    while made < persons:
        family, family_kana = rng.choice(FAMILY_NAMES)
        insured_male = rng.random() < 0.7
        insured_birth = _random_date(rng, oldest, youngest)
        members: list[tuple[str, str, date]] = [("self", "M" if insured_male else "F", insured_birth)]
        age = rules.age_on(insured_birth, today)
        if age >= 27 and rng.random() < 0.6:
            spouse_birth = _under_75(rng, insured_birth + timedelta(days=rng.randrange(-1500, 1500)), today)
            members.append(("spouse", "F" if insured_male else "M", spouse_birth))
            if age < 60:
                for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                    child_birth = _random_date(rng, insured_birth + timedelta(days=365 * 24), min(today, insured_birth + timedelta(days=365 * 45)))
                    members.append(("child", rng.choice("MF"), child_birth))
        if 40 <= age <= 50 and rng.random() < 0.08:
            parent_birth = insured_birth - timedelta(days=365 * 24 + rng.randrange(0, 3000))
            members.append(("parent", rng.choice("MF"), _under_75(rng, parent_birth, today)))
        members = members[: max(1, persons - made)]
        employer_index = rng.randrange(len(EMPLOYERS))
        household_persons = []
        start_of_insured = max(insured_birth + timedelta(days=365 * 18 + 200), date(1990, 4, 1))
        insured_from = _random_date(rng, start_of_insured, today - timedelta(days=1)) if start_of_insured < today else today
        for branch, (relationship, sex, birth) in enumerate(members):
            given, given_kana = rng.choice(MALE_NAMES if sex == "M" else FEMALE_NAMES)
            eligible_from = max(insured_from, birth)  # a child is recognised at birth at the earliest
            has_card, card, ecert, registered, phone = _card_facts(rng, birth, today)
            eligible_until = None
            if rng.random() < 0.02:
                eligible_until = _random_date(rng, eligible_from + timedelta(days=1), today + timedelta(days=60))
            household_persons.append(
                DemoPerson(
                    household_index=index,
                    branch_number="00" if relationship == "self" else f"{branch:02d}",
                    relationship=relationship,
                    family_name=family,
                    family_name_kana=family_kana,
                    given_name=given,
                    given_name_kana=given_kana,
                    sex=sex,
                    birth_date=birth,
                    eligible_from=eligible_from,
                    eligible_until=eligible_until,
                    certificate_wanted=eligible_from > rules.EX_OFFICIO_CUTOFF and not has_card and rng.random() < 0.5,
                    # R6.4: a few the society has not registered with the national system yet.
                    my_number_registered=rng.random() >= 0.01,
                    has_card=has_card,
                    card_expires_on=card,
                    ecert_expires_on=ecert,
                    registered=registered,
                    uses_smartphone=phone,
                )
            )
        voluntary = rng.random() < 0.03
        yield DemoHousehold(
            index=index,
            employer_index=employer_index,
            symbol=str(100 + employer_index),
            number=str(index + 1),
            voluntary_continuation=voluntary,
            persons=household_persons,
            # 任意継続 lasts two years at most: its last day is known (R8 caps certificates at it).
            voluntary_continuation_ends_on=today + timedelta(days=rng.randrange(30, 700)) if voluntary else None,
        )
        made += len(household_persons)
        index += 1
