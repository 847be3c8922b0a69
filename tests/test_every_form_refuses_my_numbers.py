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
from django.urls import get_resolver, reverse

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
        "certificates.request_forms.RequestDetailsForm",
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


# --- issue 24: the new forms of R9, and a refusal never echoes the number (issue 20) ----------------


@pytest.mark.parametrize("typed", ["私の番号は1234\u31645678\u31649018です", "七〇〇一二三四五六七八九〇",
                                   "1\ufe0f23456789018", "1234\u034f5678\u034f9018", "1234 5678 9018"])
def test_a_refused_number_is_not_echoed_back_into_the_textarea(client, alice, alice_person, typed):
    from certificates.models import ReissueRequest

    client.force_login(alice)
    url = reverse("certificates:request_form", args=[alice_person.pk, "needs_helper"])
    response = client.post(url, {"details": typed})
    page = response.content.decode()
    assert response.status_code == 200 and "個人番号" in page and not ReissueRequest.objects.exists()
    assert typed not in page and "9018" not in page and "七〇〇一" not in page
    assert response.context["form"]["details"].value() == ""


def test_a_form_keeps_what_it_did_not_refuse():
    class Two(forms.Form):
        note = forms.CharField()
        other = forms.CharField()

    form = Two(data={"note": "1234-5678-9018", "other": "そのまま"})
    assert not form.is_valid()
    assert form["note"].value() == "" and form["other"].value() == "そのまま"


@pytest.mark.parametrize("query", ["q=1234%E3%85%A45678%E3%85%A49018", "q=%E4%B8%83%E3%80%87%E3%80%87%E4%B8%80"
                                   "%E4%BA%8C%E4%B8%89%E5%9B%9B%E4%BA%94%E5%85%AD%E4%B8%83%E5%85%AB%E4%B9%9D",
                                   "note=1%EF%B8%8F23456789018"])
def test_a_post_query_string_holding_a_my_number_is_refused_everywhere(client, alice, query):
    # R9: "any query string a POST carries"; the POST is not carried out (a redirect is a GET)
    client.force_login(alice)
    response = client.post(f"/accounts/email/?{query}", {"action_add": "", "email": "second@example.jp"})
    assert response.status_code == 302 and "9018" not in response["Location"] and "%E4%B8%83" not in response["Location"]
    assert not alice.emailaddress_set.filter(email="second@example.jp").exists()
