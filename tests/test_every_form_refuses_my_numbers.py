"""Every text box of the project refuses a My Number (RULES.md R9), in every variant.

Walks every form class Python has loaded once the URLconf and the admin are loaded
(ours, allauth's, django.contrib's) and every admin form and inline form of every
registered ModelAdmin, and feeds each typed-text field every R9 variant.
"""

import pytest
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import get_resolver

from core.formguard import is_typed_text
from core.tests.test_mynumber import R9_VARIANTS

pytestmark = pytest.mark.django_db


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _form_classes():
    get_resolver().url_patterns
    admin.autodiscover()
    seen = set()
    for cls in _all_subclasses(forms.BaseForm):
        if cls in seen or cls.__module__.startswith(("django.forms", "tests.")):
            continue
        seen.add(cls)
        yield cls


def _fields_of(form_class, request):
    """The form's fields, instantiated when possible (allauth adds fields in __init__)."""
    for kwargs in ({}, {"request": request}, {"user": request.user}, {"user": request.user, "request": request}):
        try:
            return form_class(**kwargs).fields
        except Exception:
            continue
    return form_class.base_fields


def _typed_text_fields(fields):
    for name, field in fields.items():
        widget = field.widget
        if isinstance(widget, forms.PasswordInput | forms.HiddenInput):
            continue
        if isinstance(widget, forms.Textarea) or getattr(widget, "input_type", None) in ("text", "email", "search", "url", "tel"):
            yield name, field


def _assert_refuses(label, field):
    for variant in R9_VARIANTS:
        value = f"{variant}@example.jp" if isinstance(field, forms.EmailField) else variant
        try:
            field.to_python(value)
        except ValidationError:
            continue  # not text at all (a number, a date …): refused before any check
        with pytest.raises(ValidationError) as excinfo:
            field.clean(value)
        codes = {e.code for e in excinfo.value.error_list}
        assert "my_number" in codes, (label, variant, codes)


@pytest.fixture
def superuser_request(django_user_model):
    request = RequestFactory().get("/admin/")
    request.user = django_user_model.objects.create_superuser("root", "root@kenpo.example.jp", "x-Very-long-pass-1")
    request.session = {}
    return request


def test_it_finds_the_forms_people_type_into():
    names = {f"{c.__module__}.{c.__qualname__}" for c in _form_classes()}
    assert {
        "allauth.account.forms.SignupForm",
        "allauth.account.forms.AddEmailForm",
        "allauth.account.forms.LoginForm",
        "member.request_forms.RequestDetailsForm",
        "member.forms.LinkForm",
    } <= names


def test_every_field_of_every_form_refuses_every_my_number_variant(superuser_request):
    checked = 0
    for form_class in _form_classes():
        for name, field in _typed_text_fields(_fields_of(form_class, superuser_request)):
            _assert_refuses(f"{form_class.__module__}.{form_class.__qualname__}.{name}", field)
            checked += 1
    assert checked > 20


def _admin_forms(request):
    for model, model_admin in admin.site._registry.items():
        yield f"{model._meta.label} admin", model_admin.get_form(request, obj=None)
        for formset, inline in model_admin.get_formsets_with_inlines(request):
            yield f"{model._meta.label} inline {type(inline).__name__}", formset.form


def test_every_admin_form_and_inline_refuses_every_my_number_variant(superuser_request):
    labels = []
    for label, form_class in _admin_forms(superuser_request):
        for name, field in _typed_text_fields(form_class.base_fields):
            _assert_refuses(f"{label}.{name}", field)
            labels.append(f"{label}.{name}")
    # the ones the outside test named
    for expected in ("auth.User admin.username", "auth.Group admin.name", "sites.Site admin.name",
                     "eligibility.Household admin.address", "eligibility.Person admin.family_name"):
        assert expected in labels


def test_a_password_is_not_checked_so_no_login_is_locked_out():
    field = forms.CharField(widget=forms.PasswordInput)
    assert field.clean("pass-123456789018") == "pass-123456789018"
    assert not is_typed_text(field)


def test_the_walk_would_notice_an_unguarded_field():
    """The walk's own check fails on a field that lets a My Number through."""

    class Unguarded(forms.CharField):
        def validate(self, value):
            forms.Field.validate(self, value)

    with pytest.raises(pytest.fail.Exception):
        _assert_refuses("unguarded", Unguarded())


def test_an_anonymous_sign_up_refuses_a_my_number_as_e_mail(client):
    response = client.post("/accounts/signup/", {"email": "1234.5678.9018@example.jp", "password1": "x-Very-long-pass-1",
                                                 "password2": "x-Very-long-pass-1"})
    assert response.status_code == 200
    assert "個人番号" in str(response.context["form"].errors["email"])


# --- every date input is bounded (core.formguard) --------------------------------------------------


def _date_fields(fields):
    for name, field in fields.items():
        if isinstance(field, forms.DateField | forms.DateTimeField):
            yield name, field


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"])
def test_every_date_field_of_every_form_and_admin_refuses_an_absurd_date(superuser_request, value):
    labelled = [(f"{c.__module__}.{c.__qualname__}", _fields_of(c, superuser_request)) for c in _form_classes()]
    labelled += [(label, form_class.base_fields) for label, form_class in _admin_forms(superuser_request)]
    checked = 0
    for label, fields in labelled:
        for name, field in _date_fields(fields):
            with pytest.raises(ValidationError) as excinfo:
                field.clean(value if isinstance(field, forms.DateField) else f"{value} 00:00")
            assert "date_range" in {e.code for e in excinfo.value.error_list}, (label, name)
            checked += 1
    assert checked >= 5


def test_dates_inside_the_range_pass():
    assert str(forms.DateField().clean("1900-01-01")) == "1900-01-01"
    assert str(forms.DateField().clean("2100-12-31")) == "2100-12-31"


def test_a_member_cannot_add_an_address_holding_a_my_number(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/email/", {"action_add": "", "email": "１２３４５６７８９０１８@example.jp"})
    assert response.status_code == 200
    assert "個人番号" in str(response.context["form"].errors["email"])
    assert not alice.emailaddress_set.filter(email__contains="9018").exists()
