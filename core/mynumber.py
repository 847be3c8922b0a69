"""The one place that recognises a 個人番号 (My Number), RULES.md R9.

The portal never asks for or stores the 12-digit My Number. Every free-text field
refuses text containing a run of 12 digits — spaces or hyphens between digit
groups included, full-width digits too — whether or not its check digit is right.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
# A digit followed by eleven more, with any run of spaces, line breaks or hyphens
# between them ("1234 - 5678 - 9018", one group per line, …).
_SEPARATORS = r"[\s\-‐‑‒–—―−ー]"
_TWELVE_DIGITS = re.compile(rf"\d(?:{_SEPARATORS}*\d){{11}}")

MESSAGE = _(
    "個人番号（マイナンバー）のような12桁の数字は入力できません。"
    "このポータルでは個人番号をお預かりしません。"
    " / A 12-digit number like a My Number cannot be entered: this portal never collects it."
)


def check_digit(first_eleven: str) -> int:
    """The check digit of a My Number from its first 11 digits."""
    if len(first_eleven) != 11 or not first_eleven.isdigit():
        raise ValueError("11 digits expected")
    remainder = sum(int(d) * w for d, w in zip(first_eleven, _WEIGHTS, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_well_formed(number: str) -> bool:
    return len(number) == 12 and number.isdigit() and check_digit(number[:11]) == int(number[11])


def contains_my_number(text: str | None) -> bool:
    """True when ``text`` holds a run of 12 digits, well-formed or not."""
    if not text:
        return False
    normalised = unicodedata.normalize("NFKC", str(text))
    return bool(_TWELVE_DIGITS.search(normalised))


def refuse_my_number(value: str) -> None:
    """Django validator for every free-text field."""
    if contains_my_number(value):
        raise ValidationError(MESSAGE, code="my_number")
