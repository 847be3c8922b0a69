"""The one place that recognises a 個人番号 (My Number), RULES.md R9.

The portal never asks for or stores the 12-digit My Number. Every free-text field,
search box, CSV cell and login identifier refuses text that holds one. The text is
first normalised (``normalise``): NFKC (full-width digits and punctuation become
ASCII), then every **default-ignorable** code point (Unicode's
``Default_Ignorable_Code_Point``: zero-width spaces and joiners, soft hyphens, BOMs,
Hangul fillers, variation selectors, U+034F …) and every combining mark (category M)
is removed, digits of any script become 0–9 and the kanji numerals 〇一二三四五六七八九
and 零 are read as digits (``七〇〇一`` is 7001; ``一`` typed as a dash becomes a digit,
which only makes a run longer). Then it holds a My Number when

1. a run of **12 or more** consecutive digits appears — well-formed or not;
2. three groups of exactly **4 digits** follow each other, separated by any
   characters that are neither letters nor digits (``1234.5678.9018``,
   ``1234 / 5678 / 9018``, one group per line …) — well-formed or not;
3. any other chain of digit groups joined by **single** separators holds a window
   of whole groups totalling exactly 12 digits whose check digit is right
   (``12-3456-7890-18``). Two phone numbers or two dates on one line pass unless
   they happen to spell a well-formed number.

The katakana prolonged sound mark ``ー`` is a letter to Unicode, but people type it
as a dash between digits, so it counts as a separator here *(policy)*.
"""

import re
import unicodedata
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
LENGTH = 12
# Letters that are typed as dashes between digit groups (NFKC maps ｰ to ー).
_DASH_LIKE_LETTERS = frozenset("ー")
_DIGIT_RUN = re.compile(r"[0-9]+")
_KANJI_DIGITS = {**{ord(c): str(i) for i, c in enumerate("〇一二三四五六七八九")}, ord("零"): "0"}

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt; the same set from
# Unicode 14 to 16), as inclusive ranges. Python's unicodedata has no such property; the
# set is derived from what it does have by its definition (Cf, variation selectors and
# Other_Default_Ignorable_Code_Point, less a few format characters that are visible) and
# core/tests/test_mynumber.py checks this table against that derivation.
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),    # soft hyphen
    (0x034F, 0x034F),    # combining grapheme joiner
    (0x061C, 0x061C),    # Arabic letter mark
    (0x115F, 0x1160),    # Hangul choseong/jungseong fillers
    (0x17B4, 0x17B5),    # Khmer inherent vowels
    (0x180B, 0x180F),    # Mongolian free variation selectors, vowel separator
    (0x200B, 0x200F),    # zero-width space, (non-)joiner, directional marks
    (0x202A, 0x202E),    # directional embeddings and overrides
    (0x2060, 0x206F),    # word joiner, invisible operators, isolates …
    (0x3164, 0x3164),    # Hangul filler
    (0xFE00, 0xFE0F),    # variation selectors 1–16
    (0xFEFF, 0xFEFF),    # zero-width no-break space (BOM)
    (0xFFA0, 0xFFA0),    # half-width Hangul filler
    (0xFFF0, 0xFFF8),    # reserved
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol formatting
    (0xE0000, 0xE0FFF),  # tags, variation selectors 17–256, reserved
)

MESSAGE = _(
    "個人番号（マイナンバー）のような12桁の数字は入力できません。"
    "このポータルでは個人番号をお預かりしません。"
)


def check_digit(first_eleven: str) -> int:
    """The check digit of a My Number from its first 11 digits."""
    if len(first_eleven) != 11 or not first_eleven.isdigit():
        raise ValueError("11 digits expected")
    remainder = sum(int(d) * w for d, w in zip(first_eleven, _WEIGHTS, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_well_formed(number: str) -> bool:
    return len(number) == LENGTH and number.isdigit() and check_digit(number[:11]) == int(number[11])


def is_default_ignorable(code: int) -> bool:
    return any(first <= code <= last for first, last in DEFAULT_IGNORABLE)


class _Translation(dict[int, str | None]):
    """For str.translate, filled as characters are met: default-ignorable code points and
    combining marks are dropped, digits of other scripts and kanji numerals become 0–9,
    everything else stays."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        category = unicodedata.category(char)
        value: str | None
        if is_default_ignorable(code) or category.startswith("M"):
            value = None
        elif category == "Nd":
            value = str(unicodedata.digit(char))
        else:
            value = _KANJI_DIGITS.get(code, char)
        self[code] = value
        return value


_TRANSLATION = _Translation()


def normalise(text: str) -> str:
    """NFKC; default-ignorable code points and combining marks removed; digits of every
    script and kanji numerals as ASCII digits."""
    if text.isascii():  # the common case, and NFKC changes nothing there
        return text
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATION)


def _digit_count(text: str) -> int:
    return sum(map(text.count, "0123456789"))


def _is_separator(char: str) -> bool:
    return char in _DASH_LIKE_LETTERS or not (char.isdigit() or unicodedata.category(char).startswith("L"))


def _separated(gap: str) -> bool:
    return bool(gap) and all(_is_separator(c) for c in gap)


def _spans(normalised: str) -> Iterator[tuple[int, int]]:
    """Where the My Numbers are in normalised text, by the three rules (may overlap)."""
    if len(normalised) < LENGTH or _digit_count(normalised) < LENGTH:  # every rule needs 12 digits: most text stops here
        return
    runs = [(m.start(), m.end(), m.group()) for m in _DIGIT_RUN.finditer(normalised)]
    for start, end, digits in runs:  # rule 1
        if len(digits) >= LENGTH:
            yield start, end
    gaps = [normalised[runs[i][1]:runs[i + 1][0]] for i in range(len(runs) - 1)]
    for i in range(len(runs) - 2):  # rule 2: 4-4-4 with any separators
        if all(len(runs[i + k][2]) == 4 for k in range(3)) and _separated(gaps[i]) and _separated(gaps[i + 1]):
            yield runs[i][0], runs[i + 2][1]
    for first in range(len(runs)):  # rule 3: whole groups joined by single separators
        digits = runs[first][2]
        last = first
        while len(digits) < LENGTH and last + 1 < len(runs) and len(gaps[last]) == 1 and _separated(gaps[last]):
            last += 1
            digits += runs[last][2]
        if last > first and is_well_formed(digits):
            yield runs[first][0], runs[last][1]


def contains_my_number(text: str | None) -> bool:
    """True when ``text`` holds a My Number by RULES.md R9 (see the module's docstring)."""
    if not text:
        return False
    return next(_spans(normalise(str(text))), None) is not None


def my_number_spans(text: str) -> list[tuple[int, int]]:
    """Where in ``text`` (offsets of ``text`` itself, not of its normalised form) each My
    Number lies, for redacting only the number (``core.logging``). Each character is
    normalised on its own, so each normalised character knows where it came from."""
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = char if char.isascii() else unicodedata.normalize("NFKC", char).translate(_TRANSLATION)
        pieces.append(piece)
        origin.extend([index] * len(piece))
    return [(origin[start], origin[end - 1] + 1) for start, end in _spans("".join(pieces))]


def refuse_my_number(value: object) -> None:
    """Django validator for every free-text field."""
    if isinstance(value, str) and contains_my_number(value):
        raise ValidationError(MESSAGE, code="my_number")
