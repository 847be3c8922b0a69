"""The dashboard notices: shown until dismissed, only to who may see them; the e-mail switch."""

from datetime import date

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext

from eligibility.selectors import member_link_for
from reminders import scanning
from reminders.models import Reminder
from reminders.tests.helpers import person_expiring

pytestmark = pytest.mark.django_db

EXPIRY = date(2026, 11, 14)


@pytest.fixture
def due(alice_person, bob_person):
    """alice (insured) and bob (her son, own login) both have a reminder."""
    for person in (alice_person, bob_person):
        person.card.delete() if hasattr(person, "card") else None
    for person in (alice_person, bob_person):
        from tests.factories import CardFactsFactory

        CardFactsFactory(person=person, ecert_expires_on=EXPIRY)
    scanning.scan(day=date(2026, 8, 15))
    return Reminder.objects.get(person=alice_person), Reminder.objects.get(person=bob_person)


def render_notices(user, household):
    """The notices section of ``user``'s dashboard, and the queries of that page which read
    reminders (the partial alone for no household)."""
    if household is None:
        return render_to_string("member/_reminder_notices.html", {"household": None, "notices": []}), []
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/my/").content.decode()
    section = page.split('<section class="reminder-notices"', 1)[1].split("</section>", 1)[0]
    return section, [q["sql"] for q in queries.captured_queries if "reminders_reminder" in q["sql"]]


def test_the_insured_login_sees_every_notice_of_the_household_in_one_query(alice, due):
    html, queries = render_notices(alice, alice.member_link.person.household)
    assert "佐藤 花子" in html and "佐藤 一郎" in html
    assert "令和8年11月14日" in html
    [query] = queries  # one, and the same that reads the household's 資格確認書 (member.household_rows)
    assert "certificates_eligibilitycertificate" in query


def test_a_dependents_login_sees_only_their_own_notice_and_no_email_switch(bob, due):
    html, _ = render_notices(bob, bob.member_link.person.household)
    assert "佐藤 一郎" in html and "佐藤 花子" not in html
    assert "email_reminders" not in html


def test_no_household_shows_nothing(alice):
    html, queries = render_notices(alice, None)
    assert html.strip() == ""
    assert queries == []


def test_a_dismissed_notice_is_no_longer_shown(client, alice, due):
    client.force_login(alice)
    response = client.post(f"/reminders/{due[0].pk}/dismiss")
    assert response.status_code == 302
    html, _ = render_notices(alice, alice.member_link.person.household)
    assert "佐藤 花子" not in html and "佐藤 一郎" in html


def test_it_refuses_to_dismiss_someone_elses_notice(client, bob, charlie, due):
    client.force_login(charlie)
    assert client.post(f"/reminders/{due[0].pk}/dismiss").status_code == 404
    client.force_login(bob)  # his mother's notice is not his to see
    assert client.post(f"/reminders/{due[0].pk}/dismiss").status_code == 404
    assert client.get(f"/reminders/{due[1].pk}/dismiss").status_code == 405
    assert not Reminder.objects.filter(dismissed_at__isnull=False).exists()


def test_the_insured_login_turns_email_off_and_on(client, alice):
    client.force_login(alice)
    household = alice.member_link.person.household
    client.post("/reminders/email", {"email_reminders": "off"})
    household.refresh_from_db()
    assert household.email_reminders is False
    client.post("/reminders/email", {"email_reminders": "on"})
    household.refresh_from_db()
    assert household.email_reminders is True


def test_it_refuses_the_email_switch_to_a_dependents_login_and_bad_input(client, alice, bob):
    client.force_login(bob)
    assert client.post("/reminders/email", {"email_reminders": "off"}).status_code == 404
    client.force_login(alice)
    response = client.post("/reminders/email", {"email_reminders": "maybe"}, follow=True)
    assert response.status_code == 200
    alice.member_link.person.household.refresh_from_db()
    assert alice.member_link.person.household.email_reminders is True


def test_only_the_latest_stage_of_a_person_is_shown():
    person = person_expiring(EXPIRY)
    scanning.scan(day=date(2026, 8, 15))
    scanning.scan(day=date(2026, 11, 15))
    from reminders.selectors import notices_for
    from tests.factories import verified_member

    user = verified_member(person, "x@example.jp")
    [notice] = notices_for(link=member_link_for(user), household=person.household, day=date(2026, 11, 15))
    assert notice.stage == "expired"


def test_a_notice_disappears_once_the_card_is_renewed():
    from reminders.selectors import notices_for
    from tests.factories import verified_member

    person = person_expiring(EXPIRY)
    scanning.scan(day=date(2026, 8, 15))
    user = verified_member(person, "y@example.jp")
    link = member_link_for(user)
    assert notices_for(link=link, household=person.household, day=date(2026, 9, 1))
    card = person.card
    card.ecert_expires_on = card.card_expires_on  # renewed: now ends with the card
    card.save()
    assert notices_for(link=link, household=person.household, day=date(2026, 9, 1)) == []


def test_a_notice_says_exactly_which_expires_never_either_or(alice, due, bob_person):
    bob_person.card.card_expires_on = EXPIRY  # bob's card itself ends that day
    bob_person.card.save()
    html, _ = render_notices(alice, alice.member_link.person.household)
    assert "マイナンバーカードの電子証明書の有効期限は" in html  # alice: the e-certificate ends first
    assert "カードの更新には事前の申請が必要です" in html  # bob: the card itself
    assert "またはカード" not in html
