"""Dates as members read them: the Japanese era with the Western date beside it."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from core.wareki import era_of, format_member_date, format_wareki, format_wareki_year_month


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2020, 1, 1), "令和2年1月1日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(2025, 12, 2), "令和7年12月2日"),
    ],
)
def test_era_boundaries(day, expected):
    assert format_wareki(day) == expected


def test_year_and_month_only():
    assert format_wareki_year_month(date(2019, 5, 31)) == "令和元年5月"
    assert format_wareki_year_month(date(2031, 11, 14)) == "令和13年11月"


def test_era_of_names_the_era_in_both_scripts():
    assert era_of(date(2025, 12, 2)) == ("令和", "Reiwa", 7)
    assert era_of(date(1989, 1, 7)) == ("昭和", "Showa", 64)


def test_dates_before_meiji_are_refused():
    with pytest.raises(ValueError):
        era_of(date(1868, 10, 22))


def test_member_date_in_japanese_and_english():
    assert format_member_date(date(2025, 12, 2)) == "令和7年12月2日 (2025-12-02)"
    assert format_member_date(date(2025, 12, 2), "en") == "2025-12-02 (Reiwa 7)"


def render(template: str, **context) -> str:
    return Template(template).render(Context(context))


def test_the_filter_shows_era_and_iso_date():
    with translation.override("ja"):
        assert render("{{ d|wareki }}", d=date(2025, 12, 2)) == "令和7年12月2日 (2025-12-02)"


def test_the_filter_in_english():
    with translation.override("en"):
        assert render("{{ d|wareki }}", d=date(2025, 12, 2)) == "2025-12-02 (Reiwa 7)"


def test_wareki_only():
    assert render("{{ d|wareki_only }}", d=date(2019, 5, 1)) == "令和元年5月1日"


def test_an_aware_datetime_is_shown_on_its_day_in_japan():
    # 2025-12-01 15:30 UTC is already 2025-12-02 in Tokyo.
    moment = datetime(2025, 12, 1, 15, 30, tzinfo=ZoneInfo("UTC"))
    with translation.override("ja"):
        assert render("{{ d|wareki }}", d=moment) == "令和7年12月2日 (2025-12-02)"


@pytest.mark.parametrize("value", [None, "", "2025-12-02", 42])
def test_anything_but_a_date_renders_empty(value):
    assert render("{{ d|wareki }}{{ d|wareki_only }}", d=value) == ""


def test_the_filter_shows_a_date_before_meiji_in_western_form_rather_than_failing():
    from core.templatetags.wareki import wareki, wareki_only

    assert wareki(date(1800, 1, 1)) == "1800-01-01"
    assert wareki_only(date(1800, 1, 1)) == "1800-01-01"
