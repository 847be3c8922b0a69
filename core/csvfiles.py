"""The one place that writes CSV for people to open: every cell made safe for spreadsheets.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=`` ``+`` ``-``
``@`` (or a tab or carriage return before one) as a formula (CSV injection): a name or
事業所番号 from a roster could then run code on a clerk's machine. Such a cell gets a
leading apostrophe, which spreadsheets show as text and never evaluate (OWASP's advice).
Every CSV the site writes goes through ``writer()``; nothing calls ``csv.writer`` itself.
"""

import csv
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value) -> str:
    """One cell as text, never starting like a formula. ``None`` is an empty cell."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Writer:
    """``csv.writer`` whose rows are escaped cell by cell; returns what it wrote when the
    target's ``write`` does (for streaming responses)."""

    def __init__(self, target, **kwargs):
        self._writer = csv.writer(target, **kwargs)

    def writerow(self, row: Iterable):
        return self._writer.writerow([escape_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def writer(target, **kwargs) -> _Writer:
    """A CSV writer over ``target`` (a file or anything with ``write``), every cell escaped."""
    kwargs.setdefault("lineterminator", "\r\n")
    return _Writer(target, **kwargs)


class Echo:
    """A pseudo-file whose ``write`` returns the line: rows for a streaming response."""

    def write(self, value: str) -> str:
        return value
