"""Dates as members read them: the Japanese era (和暦) with the Western date beside.

``format_wareki(date(2025, 12, 2))`` → ``令和7年12月2日``; the template filter
``|wareki`` adds the ISO date: ``令和7年12月2日 (2025-12-02)``.
"""

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
