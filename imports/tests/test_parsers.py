from datetime import date

import pytest

from imports.parsers import (
    ImportFileError,
    RowError,
    decode,
    parse_branch,
    parse_date,
    parse_digits,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-12-02", date(2025, 12, 2)),
    ("2025/12/2", date(2025, 12, 2)),
    ("20251202", date(2025, 12, 2)),
    ("２０２５年１２月２日", date(2025, 12, 2)),
    ("令和7年12月2日", date(2025, 12, 2)),
    ("令和元年5月1日", date(2019, 5, 1)),
    ("R7.12.2", date(2025, 12, 2)),
    ("s60.11.14", date(1985, 11, 14)),
    ("平成31年4月30日", date(2019, 4, 30)),
])
def test_it_reads_western_and_era_dates(text, expected):
    assert parse_date(text, "生年月日") == expected


@pytest.mark.parametrize("text", ["2025-02-30", "令和1年4月1日", "X7.1.1", "昨日", "2025-1"])
def test_it_refuses_dates_that_do_not_exist(text):
    with pytest.raises(RowError, match=r"生年月日「.*」は日付として読めません"):
        parse_date(text, "生年月日")


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "令和99年1月1日", "1899-12-31", "2101-01-01",
                                  "明治32年12月31日"])
def test_it_bounds_dates_as_the_forms_do(text):
    # issue 24 (9): the import took dates every form refuses (core.formguard: 1900–2100)
    with pytest.raises(RowError, match=r"生年月日「.*」は 1900-01-01 から 2100-12-31 までの日付にしてください"):
        parse_date(text, "生年月日")


@pytest.mark.parametrize(("text", "expected"), [("1900-01-01", date(1900, 1, 1)), ("2100-12-31", date(2100, 12, 31)),
                                                ("明治33年1月1日", date(1900, 1, 1))])
def test_the_bounds_themselves_are_accepted(text, expected):
    assert parse_date(text, "生年月日") == expected


def test_symbol_and_number_lose_leading_zeros_and_branch_numbers_gain_one():
    assert parse_digits("０００１２", "記号", max_length=8) == "12"
    assert parse_branch("1") == "01"


def test_it_detects_encodings():
    assert decode("記号".encode("cp932")) == ("記号", "cp932")
    assert decode("記号".encode()) == ("記号", "utf-8")
    assert decode(b"\xef\xbb\xbf" + "記号".encode()) == ("記号", "utf-8-sig")
    with pytest.raises(ImportFileError):
        decode(b"\xef\xbb\xbf\x82\xa0")
