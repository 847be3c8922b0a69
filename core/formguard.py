"""Two checks every form field of this site runs, whoever wrote the form.

- Every text a person types refuses a My Number (RULES.md R9).
- Every date lies between 1900-01-01 and 2100-12-31: nobody alive was born earlier,
  no card expires later, and the date rules (``eligibility.rules``) add years and
  months that would overflow ``date.max`` (``year 10000 is out of range``) on
  9999-12-31 — a clear message instead of a 500.

One mechanism for every form, ours and the ones we do not write: member forms,
every admin form and inline (Django's user, group and site admins included),
allauth's sign-up, login, add-e-mail and password-reset forms. ``install()``
(called once from ``CoreConfig.ready``) extends ``django.forms.CharField.validate``
— the step every text-like form field (CharField, EmailField, SlugField, URLField,
RegexField, JSONField …) runs after converting the value — with ``refuse_my_number``,
and ``DateField.validate``/``DateTimeField.validate`` (SplitDateTimeField uses them)
with the range check.

Why here and not a base form class or a ``formfield_overrides`` entry per admin:
the forms of allauth and of ``django.contrib.auth``/``sites`` are not ours to
subclass everywhere they are used, and a form added next year would have to
remember the mixin. Hooking the fields' own validation reaches every form,
including the ones nobody thought of. The walk over every form of the project
(``tests/test_every_form_refuses_my_numbers.py``) proves it.

A refused value is not echoed back: the form is shown again with that field empty,
so the number is not written into the page (its HTML, the browser's cache, a
screenshot) — issue 20. ``install()`` wraps ``BaseForm.full_clean`` for that.

Not checked, on purpose:
- passwords (``PasswordInput``): never stored in clear, only hashed, and refusing
  them would lock out a login whose password happens to contain 12 digits;
- hidden inputs: machine data the page wrote itself (WebAuthn credentials, tokens),
  never typed by a person.
"""

import json
from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from .mynumber import refuse_my_number

EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)
DATE_RANGE_MESSAGE = _("%(earliest)s から %(latest)s までの日付を入力してください。")

_original_validate = forms.CharField.validate
_original_full_clean = forms.BaseForm.full_clean
_original_date_validate = forms.DateField.validate
_original_datetime_validate = forms.DateTimeField.validate


def is_typed_text(field: forms.Field) -> bool:
    """True for a text-like form field a person types into."""
    return isinstance(field, forms.CharField) and not isinstance(
        field.widget, forms.PasswordInput | forms.HiddenInput
    )


def _validate(self, value):
    _original_validate(self, value)
    if not is_typed_text(self) or value in self.empty_values:
        return
    if isinstance(self, forms.JSONField):
        value = json.dumps(value, ensure_ascii=False, cls=self.encoder)
    refuse_my_number(value)


def refuse_out_of_range(value) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(day, date) and not (EARLIEST <= day <= LATEST):
        raise ValidationError(
            DATE_RANGE_MESSAGE,
            code="date_range",
            params={"earliest": date_format(EARLIEST, "Y-m-d"), "latest": date_format(LATEST, "Y-m-d")},
        )


def _validate_date(self, value):
    _original_date_validate(self, value)
    refuse_out_of_range(value)


def _validate_datetime(self, value):
    _original_datetime_validate(self, value)
    refuse_out_of_range(value)


def _refused_fields(form: forms.BaseForm) -> list[str]:
    return [name for name, errors in form.errors.as_data().items()
            if name in form.fields and any(e.code == "my_number" for e in errors)]


def _full_clean(self):
    _original_full_clean(self)
    refused = _refused_fields(self) if self.is_bound else []
    if refused:
        data = self.data.copy()  # a QueryDict is immutable
        for name in refused:
            data[self.add_prefix(name)] = ""
        self.data = data


def install() -> None:
    """Idempotent: extend the fields' ``validate`` with the two checks, and forms' cleaning
    with forgetting a refused value."""
    forms.BaseForm.full_clean = _full_clean
    forms.CharField.validate = _validate
    forms.DateField.validate = _validate_date
    forms.DateTimeField.validate = _validate_datetime
