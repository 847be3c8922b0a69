"""One subject style for every e-mail of the site, and the language each login uses."""

import pytest
from django.core import mail

from core.email import AccountAdapter, languages_of, remember_language, subject
from core.models import MemberLanguage


def test_it_prefixes_japanese_subjects_with_brackets_and_english_ones_with_kenpo_portal():
    assert subject("資格確認書を発送しました", language="ja") == "【けんぽポータル】資格確認書を発送しました"
    assert subject("Your certificate was mailed", language="en") == "[Kenpo Portal] Your certificate was mailed"
    assert subject("x", language="en-us").startswith("[Kenpo Portal] ")
    assert subject("x", language="fr").startswith("【けんぽポータル】")  # the site's own language


def test_without_a_language_it_uses_the_active_one():
    from django.utils import translation

    with translation.override("en"):
        assert subject("Hello") == "[Kenpo Portal] Hello"
    with translation.override("ja"):
        assert subject("こんにちは") == "【けんぽポータル】こんにちは"


def test_allauths_emails_get_the_same_subject_style():
    from django.utils import translation

    with translation.override("en"):
        assert AccountAdapter().format_email_subject("Confirm your e-mail") == "[Kenpo Portal] Confirm your e-mail"


@pytest.mark.django_db
def test_the_language_a_login_uses_is_remembered_for_its_emails(client):
    from tests.factories import UserFactory

    user = UserFactory(username="mika", email="mika@example.jp")
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert languages_of([user.pk]) == {user.pk: "en"}
    client.post("/i18n/setlang/", {"language": "ja", "next": "/"})
    assert MemberLanguage.objects.get(user=user).language == "ja"


@pytest.mark.django_db
def test_signing_in_remembers_the_language_the_login_page_was_read_in(client, alice):
    client.cookies["django_language"] = "en"
    response = client.post("/accounts/login/", {"login": "alice@example.jp", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert languages_of([alice.pk]) == {alice.pk: "en"}


@pytest.mark.django_db
def test_a_page_read_writes_no_language(client):
    from tests.factories import UserFactory

    user = UserFactory(username="mika", email="mika@example.jp")
    client.force_login(user)
    client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert languages_of([user.pk]) == {}


@pytest.mark.django_db
def test_a_login_never_seen_has_no_language():
    from tests.factories import UserFactory

    user = UserFactory(username="new", email="new@example.jp")
    assert languages_of([user.pk]) == {}
    remember_language(user_id=user.pk, language="en-gb")
    assert languages_of([user.pk]) == {user.pk: "en"}
    assert mail.outbox == []
