"""A small reader of gettext .po files: enough to check the project catalog in tests
without a dependency (msgctxt, plurals, flags, references; obsolete ``#~`` entries are
skipped)."""

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr)

    def __str__(self) -> str:
        where = ", ".join(self.references[:3]) or "no reference"
        context = f" (context {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"line {self.line}: {self.msgid!r}{context} — used in {where}"


def read(path: Path) -> list[Entry]:
    """The catalog's entries (the header, msgid "", left out)."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None  # which field the next "..." line continues

    def finish():
        if current is not None and (current.msgid or current.msgctxt is not None):
            entries.append(current)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            current, target = None, None
            continue
        if line.startswith("#~"):
            continue
        if current is None:
            current = Entry(line=number)
        if line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#:"):
            current.references += line[2:].split()
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            _append(current, target, ast.literal_eval(line))
        else:
            keyword, _, rest = line.partition(" ")
            if keyword.startswith("msgstr["):
                target = ("msgstr", int(keyword[7:-1]))
                current.msgstr.append("")
            elif keyword == "msgstr":
                target = ("msgstr", 0)
                current.msgstr.append("")
            elif keyword in ("msgid", "msgctxt", "msgid_plural"):
                if keyword == "msgid":
                    current.line = number
                target = (keyword, 0)
                setattr(current, keyword, "")
            else:
                raise ValueError(f"{path}:{number}: cannot read {raw!r}")
            _append(current, target, ast.literal_eval(rest))
    finish()
    return entries


def _append(entry: Entry, target, text: str) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] += text
    else:
        setattr(entry, name, getattr(entry, name) + text)
