"""Benchmark: the My Number check (core.mynumber, RULES.md R9) over roster-like cells.

    .venv/bin/python bench/mynumber.py [--cells 1000000]

Every CSV cell of an import and every form field runs it once. Prints the time per
cell for typical cells (names, kana, addresses, dates, phone numbers, 記号・番号) and
for cells that hold a number. Target: a few microseconds per cell, so a roster of a
million persons (about 15 million cells) checks in well under a minute per core.
"""

import argparse
import time

import _setup  # noqa: F401 (sets Django up first)

from core.mynumber import contains_my_number

ORDINARY = ["佐藤", "サトウ ハナコ", "1985-11-14", "1234", "0005678", "東京都千代田区丸の内1-1-1 ○○ビル3F",
            "03-1234-5678", "", "テスト商事株式会社", "2026-11-14"]
HOLDING = ["123456789018", "1234 5678 9018", "１２３４－５６７８－９０１９", "12-3456-7890-18", "12\u200b3456789018"]


def per_cell(cells: list[str]) -> float:
    started = time.perf_counter()
    for cell in cells:
        contains_my_number(cell)
    return (time.perf_counter() - started) / len(cells) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=1_000_000)
    n = parser.parse_args().cells
    ordinary = (ORDINARY * (n // len(ORDINARY) + 1))[:n]
    holding = (HOLDING * (n // 10 // len(HOLDING) + 1))[: n // 10]
    assert not any(map(contains_my_number, ORDINARY)) and all(map(contains_my_number, HOLDING))
    print(f"ordinary cells: {per_cell(ordinary):.2f} µs/cell over {len(ordinary):,}")
    print(f"cells holding a number: {per_cell(holding):.2f} µs/cell over {len(holding):,}")


if __name__ == "__main__":
    main()
