"""The printed items of a 資格情報のお知らせ (R10) for one person: plain values, no number
of the 個人番号 ever (the portal does not hold it), no expiry except the co-payment period."""

import hashlib
import json
from datetime import date

from django.conf import settings

from eligibility import rules
from eligibility.models import Person


def copay_period(birth_date: date, *, today: date) -> tuple[date, date] | None:
    """R10: for ages 70+, the period of the co-payment ratio: from the 1st of the month after
    the 70th birthday's month (that month for a birthday on the 1st), re-determined every
    August 1 (to July 31), and ending the day before the 75th birthday (R11)."""
    starts = rules.copay_effective_from(birth_date)
    if today < starts and rules.age_on(birth_date, today) < rules.ELDERLY_AGE:
        return None
    august = date(today.year if today.month >= 8 else today.year - 1, 8, 1)
    start = max(starts, august)
    end = min(date(start.year + (1 if start.month >= 8 else 0), 7, 31), rules.turns_75_on(birth_date) - rules.DAY)
    return start, end


def notice_items(person: Person, *, today: date) -> dict:
    """Every item R10 prints, as JSON-able values (dates ISO). Needs household and society loaded."""
    household = person.household
    society = household.society
    insured = household.insured_person
    period = copay_period(person.birth_date, today=today)
    return {
        "name": person.name_for_print,
        "name_kana": person.name_kana,
        "birth_date": person.birth_date.isoformat(),
        "symbol": household.symbol,
        "number": household.number,
        "branch_number": person.branch_number,
        "insurer_number": society.insurer_number,
        "insurer_name": society.name,
        "insurer_address": society.address,
        "insurer_phone": society.phone,
        "eligible_from": person.eligible_from.isoformat(),
        "is_insured_person": person.is_insured_person,
        "insured_name": "" if person.is_insured_person or insured is None else insured.name_for_print,
        "copay_ratio": settings.KENPO_ELDERLY_COPAY_RATIO if period else "",
        "copay_from": period[0].isoformat() if period else "",
        "copay_until": period[1].isoformat() if period else "",
    }


def digest(items: dict) -> str:
    """Changes when a printed item changes (R10: a new お知らせ is due)."""
    return hashlib.sha256(json.dumps(items, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
