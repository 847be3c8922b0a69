"""The My Number check (RULES.md R9): no free-text field accepts a 12-digit number."""

import pytest
from django import forms
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from core.fields import FreeTextField, FreeTextFormField
from core.mynumber import check_digit, contains_my_number, is_well_formed, refuse_my_number

# --- the check digit ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("first_eleven", "expected"),
    [("12345678901", 8), ("98765432109", 3), ("11111111111", 8)],
)
def test_check_digit_matches_the_public_vectors(first_eleven, expected):
    assert check_digit(first_eleven) == expected


def test_a_remainder_of_zero_or_one_gives_check_digit_zero():
    # 00000000000: remainder 0; 00000000006 (weight 2 → 12 % 11 = 1): remainder 1.
    assert check_digit("00000000000") == 0
    assert check_digit("00000000006") == 0


@pytest.mark.parametrize("bad", ["1234567890", "123456789012", "1234567890a", ""])
def test_check_digit_wants_exactly_eleven_digits(bad):
    with pytest.raises(ValueError):
        check_digit(bad)


def test_well_formed_numbers_are_recognised():
    assert is_well_formed("123456789018")
    assert is_well_formed("987654321093")
    assert not is_well_formed("123456789019")
    assert not is_well_formed("12345678901")


# --- what the free-text check refuses (RULES.md R9) ----------------------------------------

# Variants every free-text input of the site must refuse: also used by the walk over
# every form field of the project (tests/test_every_form_refuses_my_numbers.py).
R9_VARIANTS = [
    "123456789018",                       # rule 1: well-formed
    "123456789019",                       # rule 1: malformed, refused all the same
    "番号は123456789018です",              # inside a sentence
    "mynumber:1234567890181",             # 13 digits contain 12
    "12\u200b3456789018",                 # a zero-width space inside the run
    "1234\u00ad5678\u00ad9018",           # soft hyphens
    "\ufeff1234\u20605678\u200d9019",     # BOM, word joiner, zero-width joiner
    "１２３４５６７８９０１８",           # full-width digits
    "١٢٣٤٥٦٧٨٩٠١٨",                       # Arabic-Indic digits
    "1234 5678 9018",                     # rule 2: grouped with spaces, as on the card
    "1234-5678-9019",                     # rule 2: hyphens, malformed
    "1234.5678.9019",                     # dots
    "1234/5678/9019",                     # slashes
    "1234,5678,9019",                     # commas
    "1234_5678_9019",                     # underscores
    "1234・5678・9019",                   # nakaguro
    "1234、5678、9019",                   # ideographic commas
    "1234−5678−9018",                     # minus sign
    "1234ー5678ー9018",                   # katakana prolonged sound mark typed as a dash (policy)
    "１２３４　５６７８　９０１８",       # full-width digits and ideographic spaces
    "１２３４－５６７８－９０１９",       # full-width hyphens
    "１２３４．５６７８．９０１９",       # full-width full stops
    "1234  5678  9019",                   # two spaces between groups
    "1234 - 5678 - 9019",                 # spaced hyphens
    "1234\n5678\n9019",                   # one group per line in a text area
    "1234\r\n\r\n5678\r\n9019",           # blank lines between
    "12-3456-7890-18",                    # rule 3: other grouping, check digit right
    "123 456 789 018",                    # rule 3: 3-3-3-3
    "1 2 3 4 5 6 7 8 9 0 1 8",            # rule 3: a space between every digit
    "番号:12.3456.789018",                # rule 3 with dots
    # default-ignorable code points that are not format (Cf) characters (issue 24)
    "1234\u31645678\u31649018",           # Hangul filler (a letter to Unicode)
    "12\u115f3456\u11607890\uffa018",      # Hangul choseong/jungseong and half-width fillers
    "1\ufe0f2345678901\ufe0e8",            # variation selectors after digits
    "12345\U000e01006789018",            # a variation selector from the supplement
    "1234\u034f5678\u034f9018",           # combining grapheme joiner
    "1234\U000e00205678\U000e007f9018",     # tag characters
    # combining marks between or after digits
    "1\u03012\u03003456789018",            # acute and grave accents
    "1\u20e32\u20e33\u20e34 5678 9018",    # combining enclosing keycap (Me)
    # kanji numerals read as digits
    "七〇〇一二三四五六七八九",            # twelve kanji digits
    "一二三四 五六七八 九〇一八",          # grouped as on the card
    "1234一5678一9018",                   # 一 typed as a dash: a run of 14 digits
    "零一二三四五六七八九〇一",            # 零 as zero
]


@pytest.mark.parametrize("text", R9_VARIANTS)
def test_it_refuses_text_with_a_my_number(text):
    assert contains_my_number(text)
    with pytest.raises(ValidationError) as excinfo:
        refuse_my_number(text)
    assert excinfo.value.code == "my_number"
    assert "個人番号" in str(excinfo.value.messages[0])  # one language a message: English in the catalog


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "電話は03-1234-5678です",             # 10 digits
        "090-1234-5678",                      # a mobile number: 11 digits
        "〒100-0005 東京都千代田区丸の内1-1-1",
        "記号1234 番号5678",
        "12345678901",                        # 11 digits
        "令和7年12月2日（2025-12-02）",
        "03-1234-5678 090-1234-5678",         # two phone numbers on one line
        "090-1234-5678、03-1234-5678",
        "TEL 0120-123-456 / 03-1234-5678",
        "2025-12-02 2026-01-15",              # two dates on one line
        "2025/12/02〜2026/01/15",
        "期間 2024.04.01-2025.03.31",
        "12-3456-7890-19",                    # rule 3 only with the right check digit
        "1 2 3 4 5 6 7 8 9 0 1 9",
        "1234 abc 5678 def 9018",             # letters break the groups
        "1234ab5678ab9018",
        "12345 6789 0123",                    # 5-4-4: not three groups of four
    ],
)
def test_it_accepts_ordinary_text(text):
    assert not contains_my_number(text)
    refuse_my_number(text)


def test_non_text_values_pass_the_validator():
    refuse_my_number(123456789018 // 10**6)
    refuse_my_number(None)


@given(st.from_regex(r"\A[0-9]{4}\Z"), st.from_regex(r"\A[0-9]{4}\Z"), st.from_regex(r"\A[0-9]{4}\Z"),
       st.text(alphabet=" -./,_・\n\t　－／", min_size=1, max_size=3),
       st.text(alphabet=" -./,_・\n\t　－／", min_size=1, max_size=3))
def test_any_three_groups_of_four_are_refused_whatever_separates_them(a, b, c, sep1, sep2):
    assert contains_my_number(f"{a}{sep1}{b}{sep2}{c}")


@given(st.from_regex(r"\A[0-9]{12}\Z"), st.lists(st.integers(min_value=1, max_value=11), max_size=4, unique=True),
       st.sampled_from(["-", " ", ".", "/", "\n", "・"]))
def test_any_well_formed_number_split_by_single_separators_is_refused(digits, cuts, sep):
    number = digits[:11] + str(check_digit(digits[:11]))
    pieces, last = [], 0
    for cut in sorted(cuts):
        pieces.append(number[last:cut])
        last = cut
    pieces.append(number[last:])
    assert contains_my_number(f"メモ {sep.join(pieces)} です")


@given(st.from_regex(r"\A[0-9]{12}\Z"), st.sampled_from(["\u200b", "\u00ad", "\u2060", "\ufeff"]),
       st.integers(min_value=1, max_value=11))
def test_invisible_characters_never_hide_a_run(digits, invisible, at):
    assert contains_my_number(digits[:at] + invisible + digits[at:])


@given(st.from_regex(r"\A[0-9]{12}\Z"))
def test_any_twelve_digits_are_refused(digits):
    assert contains_my_number(digits)
    assert contains_my_number(f"メモ：{digits[:4]} {digits[4:8]} {digits[8:]}。")


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",), blacklist_characters="〇一二三四五六七八九零"),
               max_size=200))
def test_text_without_digits_is_never_refused(text):
    assert not contains_my_number(text)


@given(st.from_regex(r"\A[0-9]{12}\Z"), st.sampled_from(["\u3164", "\u115f", "\u1160", "\uffa0", "\ufe0f", "\u034f",
                                                        "\u180e", "\u2065", "\U000e0001", "\u0301", "\u20dd"]),
       st.integers(min_value=1, max_value=12))
def test_fillers_selectors_and_marks_never_hide_a_run(digits, invisible, at):
    assert contains_my_number(digits[:at] + invisible + digits[at:])


def test_ordinary_japanese_with_kanji_numerals_passes():
    for text in ("東京都千代田区一番町三丁目二番地", "一月二日に受け取りました", "第三号被保険者", "二〇二五年一二月二日"):
        assert not contains_my_number(text)


# --- the default-ignorable table -------------------------------------------------------------

# PropList.txt's Other_Default_Ignorable_Code_Point and the code points that are Cf but
# visible (Prepended_Concatenation_Mark, interlinear annotation, Egyptian format controls):
# DerivedCoreProperties.txt defines Default_Ignorable_Code_Point = Other_DI + Cf +
# Variation_Selector − White_Space − FFF9..FFFB − 13430..1343F − Prepended_Concatenation_Mark.
_OTHER_DI = [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2065, 0x3164, 0xFFA0, *range(0xFFF0, 0xFFF9), 0xE0000,
             *range(0xE0002, 0xE0020), *range(0xE0080, 0xE0100), *range(0xE01F0, 0xE1000)]
_VARIATION_SELECTORS = [*range(0x180B, 0x180E), 0x180F, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]
_VISIBLE_FORMAT = [*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD,
                   *range(0xFFF9, 0xFFFC), *range(0x13430, 0x13440)]


def test_the_default_ignorable_table_is_unicodes_derivation():
    import unicodedata

    from core.mynumber import DEFAULT_IGNORABLE, is_default_ignorable

    cf = {c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"}
    derived = (cf | set(_OTHER_DI) | set(_VARIATION_SELECTORS)) - set(_VISIBLE_FORMAT)
    table = {c for first, last in DEFAULT_IGNORABLE for c in range(first, last + 1)}
    assert table == derived
    assert len(table) == 4174  # the count DerivedCoreProperties.txt gives
    assert all(is_default_ignorable(c) for c in (0x3164, 0xFE0F, 0x034F, 0x200B)) and not is_default_ignorable(0x20)


# --- the fields every form uses --------------------------------------------------------

class NoteForm(forms.Form):
    note = FreeTextFormField(required=False)


def test_the_free_text_form_field_refuses_a_my_number():
    form = NoteForm(data={"note": "カード番号 1234 5678 9018"})
    assert not form.is_valid()
    assert "個人番号" in form.errors["note"][0]


def test_the_free_text_form_field_accepts_a_note():
    assert NoteForm(data={"note": "窓口で受け取ります"}).is_valid()


def test_the_free_text_model_field_validates_on_model_validation():
    # ModelForms and the admin run model validation (full_clean), hence this validator.
    field = FreeTextField()
    with pytest.raises(ValidationError):
        field.clean("１２３４５６７８９０１８", None)
    assert field.clean("ふつうのメモ", None) == "ふつうのメモ"


def test_the_free_text_model_field_migrates_as_a_plain_text_field():
    _name, path, _args, _kwargs = FreeTextField().deconstruct()
    assert path == "django.db.models.TextField"


# Text written by the system, never typed by a person.
NOT_TYPED = {"reminders.Reminder.last_error"}


def _free_text_fields():
    from django.apps import apps
    from django.db import models

    found = []
    for model in apps.get_models():
        if model._meta.app_label not in ("eligibility", "certificates", "reminders", "imports", "staff", "audit"):
            continue
        for field in model._meta.get_fields():
            label = f"{model._meta.label}.{field.name}"
            if isinstance(field, models.TextField) and field.editable and label not in NOT_TYPED:
                found.append(field)
    return found


@pytest.mark.parametrize("field", _free_text_fields(), ids=lambda f: f"{f.model._meta.label}.{f.name}")
def test_every_free_text_model_field_of_the_project_refuses_a_my_number(field):
    with pytest.raises(ValidationError):
        field.run_validators("1234-5678-9018")
