"""The dashboard is served from the cache until something it shows changes."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eligibility import dashboard_cache
from eligibility.models import CardFacts
from reminders import services as reminder_services
from reminders.models import Reminder

pytestmark = pytest.mark.django_db


def _dashboard(client):
    response = client.get("/my/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_second_visit_is_served_from_the_cache(client, alice):
    client.force_login(alice)
    _dashboard(client)
    with CaptureQueriesContext(connection) as queries:
        _dashboard(client)
    # The session and the user; nothing about the household.
    assert len(queries) <= 2, [q["sql"] for q in queries]


def test_a_card_fact_changed_by_the_member_shows_at_once(client, alice, alice_person):
    client.force_login(alice)
    assert "マイナンバーカードがありません" not in _dashboard(client)
    facts = alice_person.card
    facts.has_card = False
    facts.save()
    assert "マイナンバーカードがありません" in _dashboard(client)


def test_a_change_made_with_a_plain_update_is_forgotten_by_its_service(client, alice, alice_person):
    client.force_login(alice)
    _dashboard(client)
    CardFacts.objects.filter(pk=alice_person.pk).update(registered=False)  # no signal
    assert "保険証の利用登録がまだです" not in _dashboard(client)
    dashboard_cache.forget_persons([alice_person.pk])
    assert "保険証の利用登録がまだです" in _dashboard(client)


def test_a_dismissed_notice_disappears_from_the_next_page(client, alice, alice_person, bob_person):
    reminder_services.scan(day=date(2026, 8, 15))
    reminder = Reminder.objects.get(person=alice_person)
    client.force_login(alice)
    assert f"/reminders/{reminder.pk}/dismiss" in _dashboard(client)
    reminder_services.dismiss(reminder=reminder)
    assert f"/reminders/{reminder.pk}/dismiss" not in _dashboard(client)


def test_each_browser_gets_its_own_csrf_token(client, alice, alice_person):
    reminder_services.scan(day=date(2026, 8, 15))
    client.force_login(alice)
    html = _dashboard(client)
    assert dashboard_cache.CSRF_PLACEHOLDER not in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_a_dependents_own_login_never_gets_the_households_cached_page(client, alice, bob):
    client.force_login(alice)
    household_html = _dashboard(client)
    assert "佐藤 花子" in household_html
    client.force_login(bob)
    own_html = _dashboard(client)
    assert "佐藤 一郎" in own_html
    assert "佐藤 花子" not in own_html


def test_the_cached_page_is_not_served_on_the_next_day():
    dashboard_cache.set_page(user_id=1, language="ja", today=date(2026, 11, 25), html="x")
    assert dashboard_cache.get_page(user_id=1, language="ja", today=date(2026, 11, 25)) == "x"
    assert dashboard_cache.get_page(user_id=1, language="ja", today=date(2026, 11, 26)) is None


def test_a_one_off_message_shows_once_and_is_never_cached(client, alice, alice_person):
    client.force_login(alice)
    _dashboard(client)  # fills the cache
    response = client.post(f"/my/person/{alice_person.pk}/card/", {
        "has_card": "no", "ecert_choice": "unknown", "registered": "no", "uses_smartphone": "no",
    }, follow=True)
    assert "カード情報を更新しました" in response.content.decode()
    assert "カード情報を更新しました" not in _dashboard(client)
    assert "マイナンバーカードがありません" in _dashboard(client)


def test_each_language_is_cached_apart(client, alice):
    client.force_login(alice)
    assert '<html lang="ja">' in _dashboard(client)
    client.post("/i18n/setlang/", {"language": "en", "next": "/my/"})
    assert '<html lang="en">' in _dashboard(client)


def test_a_withdrawn_request_shows_at_once(client, alice, alice_person):
    from certificates import services as certificate_services
    from certificates.models import Reason

    req = certificate_services.request_submit(person=alice_person, requested_by=alice, reason=Reason.CARD_LOST,
                                              noticed_on=date(2026, 11, 1))
    client.force_login(alice)
    assert f"/certificates/requests/{req.pk}/" in _dashboard(client)
    certificate_services.request_withdraw(req=req, by=alice)  # a set-based update, no signal
    assert f"/certificates/requests/{req.pk}/" not in _dashboard(client)


def test_a_new_release_never_serves_the_page_cached_by_the_previous_one(client, alice, monkeypatch):
    from member import cards

    client.force_login(alice)
    _dashboard(client)
    monkeypatch.setattr(cards, "CODE_VERSION", "next-release")  # wording, rules, template or catalog changed
    with CaptureQueriesContext(connection) as queries:
        _dashboard(client)
    assert len(queries) > 2  # rendered again, not read from the cache


def test_a_page_cached_yesterday_is_never_shown_today(client, alice, monkeypatch):
    from eligibility import selectors

    client.force_login(alice)
    monkeypatch.setattr(selectors, "today", lambda: date(2026, 8, 14))
    assert "令和8年8月14日" in _dashboard(client)
    monkeypatch.setattr(selectors, "today", lambda: date(2026, 8, 15))
    assert "令和8年8月15日" in _dashboard(client)


def test_the_code_version_covers_the_rules_and_the_wording():
    from member import cards

    names = {path.name for path in cards._CODE}
    assert {"rules.py", "clinic.py", "situation.py", "_person_card.html", "dashboard.html"} <= names
