"""Dates as members read them: the Japanese era (和暦) with the Western date beside.

``format_wareki(date(2025, 12, 2))`` → ``令和7年12月2日``; the template filter
``|wareki`` adds the ISO date: ``令和7年12月2日 (2025-12-02)``.
"""

import re
import unicodedata
from datetime import date

# (first day, kanji, romaji)
ERAS = (
    (date(2019, 5, 1), "令和", "Reiwa"),
    (date(1989, 1, 8), "平成", "Heisei"),
    (date(1926, 12, 25), "昭和", "Showa"),
    (date(1912, 7, 30), "大正", "Taisho"),
    (date(1868, 10, 23), "明治", "Meiji"),
)


def era_of(day: date) -> tuple[str, str, int]:
    """(kanji, romaji, year of era) of ``day``."""
    for start, kanji, romaji in ERAS:
        if day >= start:
            return kanji, romaji, day.year - start.year + 1
    raise ValueError(f"{day} is before the Meiji era")


def format_wareki(day: date) -> str:
    kanji, _, year = era_of(day)
    year_text = "元" if year == 1 else str(year)
    return f"{kanji}{year_text}年{day.month}月{day.day}日"


def format_wareki_year_month(day: date) -> str:
    kanji, _, year = era_of(day)
    year_text = "元" if year == 1 else str(year)
    return f"{kanji}{year_text}年{day.month}月"


def format_member_date(day: date, language: str = "ja") -> str:
    """The form shown to members: era date with the Western date beside it."""
    if language.startswith("en"):
        _, romaji, year = era_of(day)
        return f"{day.isoformat()} ({romaji} {year})"
    return f"{format_wareki(day)} ({day.isoformat()})"


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
# 和暦: 昭和60年11月14日, S60.11.14, 令和元年5月1日, R1/5/1.
_WAREKI = re.compile(r"^(明治|大正|昭和|平成|令和|[MTSHR])(元|\d{1,2})(?:年|[./-])(\d{1,2})(?:月|[./-])(\d{1,2})日?$")


def _wareki(value: str) -> date | None:
    match = _WAREKI.match(value.upper() if value[:1].isascii() else value)
    if not match:
        return None
    era, year, month, day = match.groups()
    start = next((s for s, kanji, romaji in ERAS if era in (kanji, romaji[0])), None)
    if start is None:
        return None
    western = start.year + (1 if year == "元" else int(year)) - 1
    result = date(western, int(month), int(day))
    if result < start:  # e.g. 令和1年4月1日 was still 平成
        raise ValueError(value)
    return result


def parse_date(text: str) -> date | None:
    """A date as staff type it — 2025-12-02, 2025/12/2, 2025.12.2, 20251202, 2025年12月2日,
    or in 和暦 (令和7年12月2日, R7.12.2, 昭和60年4月1日, S60/4/1), full-width digits too —
    or None when ``text`` is not one (or names a day that does not exist)."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not value:
        return None
    try:
        for pattern in _DATE_PATTERNS:
            match = pattern.match(value)
            if match:
                return date(*(int(part) for part in match.groups()))
        return _wareki(value)
    except ValueError:
        return None
