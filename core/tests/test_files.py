"""Generated files a crash never leaves unreferenced (core/files.py, issue 27)."""

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from core.files import sweep, write_in_place


def _media(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def test_a_file_is_written_under_its_final_name_in_place_never_beside_a_copy():
    write_in_place("print/2026/12/batch-1-001.pdf", b"first")
    write_in_place("print/2026/12/batch-1-001.pdf", [b"sec", b"ond"])  # the re-render of a killed one
    assert sorted(p.name for p in _media("print/2026/12").iterdir()) == ["batch-1-001.pdf"]
    assert _media("print/2026/12/batch-1-001.pdf").read_bytes() == b"second"


def test_a_write_that_fails_leaves_no_part_file():
    def broken():
        yield b"half"
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_in_place("exports/2026/12/list.csv", broken())
    assert list(_media("exports/2026/12").iterdir()) == []


def test_the_sweeper_deletes_only_files_no_row_names_older_than_an_hour():
    for name in ("print/a.pdf", "print/2026/12/b.pdf", "print/2026/12/b.pdf.1a2b3c4d.part", "print/new.pdf"):
        _media(name).parent.mkdir(parents=True, exist_ok=True)
        _media(name).write_bytes(b"x")
    old = time.time() - 2 * 3600
    for name in ("print/a.pdf", "print/2026/12/b.pdf", "print/2026/12/b.pdf.1a2b3c4d.part"):
        os.utime(_media(name), (old, old))
    deleted = sweep(folder="print", referenced=["print/a.pdf", ""])
    assert deleted == ["print/2026/12/b.pdf", "print/2026/12/b.pdf.1a2b3c4d.part"]
    assert _media("print/a.pdf").exists() and _media("print/new.pdf").exists()  # named; too young
    assert sweep(folder="print", referenced=[], now=timezone.now() + timedelta(hours=2)) == [
        "print/a.pdf", "print/new.pdf"]


def test_the_sweeper_of_a_folder_never_written_finds_nothing():
    assert sweep(folder="imports", referenced=[]) == []
