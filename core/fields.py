"""Model and form fields for free text: each refuses My Number-like digits (R9)."""

from typing import Any

from django import forms
from django.db import models

from .mynumber import refuse_my_number


class FreeTextField(models.TextField):
    """A TextField whose every form (member forms and the admin) refuses My Numbers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)
        if refuse_my_number not in self.validators:
            self.validators.append(refuse_my_number)

    def deconstruct(self) -> tuple[str, str, Any, Any]:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs


class FreeTextFormField(forms.CharField):
    """A form field for free text that is not backed by a model field."""

    default_validators = [refuse_my_number]
