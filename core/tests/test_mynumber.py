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


# --- what the free-text check refuses ----------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "123456789018",                       # well-formed
        "123456789019",                       # malformed: refused all the same
        "番号は123456789018です",              # inside a sentence
        "1234 5678 9018",                     # grouped with spaces, as on the card
        "1234-5678-9018",                     # hyphens
        "1234−5678−9018",                     # minus sign
        "1234ー5678ー9018",                   # katakana prolonged sound mark typed as a dash
        "１２３４５６７８９０１８",           # full-width digits
        "１２３４　５６７８　９０１８",       # full-width digits and ideographic spaces
        "１２３４－５６７８－９０１８",       # full-width hyphens
        "1 2 3 4 5 6 7 8 9 0 1 8",            # a space between every digit
        "mynumber:1234567890181",             # 13 digits contain 12
        "1234  5678  9018",                   # two spaces between groups
        "1234 - 5678 - 9018",                 # spaced hyphens
        "1234\n5678\n9018",                   # one group per line in a text area
    ],
)
def test_it_refuses_text_with_twelve_digits(text):
    assert contains_my_number(text)
    with pytest.raises(ValidationError) as excinfo:
        refuse_my_number(text)
    assert excinfo.value.code == "my_number"
    assert "個人番号" in str(excinfo.value.messages[0]) and "My Number" in str(excinfo.value.messages[0])


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
    ],
)
def test_it_accepts_ordinary_text(text):
    assert not contains_my_number(text)
    refuse_my_number(text)


@given(st.from_regex(r"\A[0-9]{12}\Z"))
def test_any_twelve_digits_are_refused(digits):
    assert contains_my_number(digits)
    assert contains_my_number(f"メモ：{digits[:4]} {digits[4:8]} {digits[8:]}。")


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=200))
def test_text_without_digits_is_never_refused(text):
    assert not contains_my_number(text)


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
