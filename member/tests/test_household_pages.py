"""The member pages as alice (insured person), bob (adult dependent with his own login),
charlie (another household), a staff user and an anonymous visitor."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from eligibility import selectors
from eligibility.models import CardFactsChange
from tests.factories import CardFactsFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 9, 1)  # alice's e-certificate (2026-11-14) is in its renewal window


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(selectors, "today", lambda: TODAY)


@pytest.fixture
def spouse(household, alice_person):
    person = PersonFactory(household=household, branch_number="01", relationship="spouse", given_name="次郎",
                           birth_date=date(1983, 5, 3))
    CardFactsFactory(person=person, registered=False, card_expires_on=date(2032, 5, 3), ecert_expires_on=None,
                     ecert_source="unknown")
    return person


def _login(client, user):
    client.force_login(user)
    return client


# --- dashboard ---------------------------------------------------------------------

def test_it_shows_the_insured_person_the_whole_household(client, alice, spouse, bob_person):
    page = _login(client, alice).get(reverse("eligibility:dashboard")).content.decode()
    assert "佐藤 花子" in page and "佐藤 一郎" in page and spouse.name in page
    assert "更新の時期です" in page  # alice: renew_now, in words
    assert "status-renew_now" in page
    assert "保険証の利用登録がまだです" in page  # the spouse
    assert "令和8年11月14日 (2026-11-14)" in page  # dates in era with the Western date


def test_it_writes_the_next_step_for_each_situation(client, alice, spouse):
    page = _login(client, alice).get(reverse("eligibility:dashboard")).content.decode()
    assert "市区町村の窓口で更新できます" in page  # alice's renewal
    assert "セブン銀行ATM" in page  # the spouse's ways to register
    assert reverse("eligibility:guide", args=["renewal"]) in page
    assert reverse("eligibility:guide", args=["register"]) in page


def test_it_shows_an_adult_dependent_only_themself(client, bob, alice_person, spouse):
    page = _login(client, bob).get(reverse("eligibility:dashboard")).content.decode()
    assert "佐藤 一郎" in page
    assert "佐藤 花子" not in page and spouse.name not in page


def test_it_sends_an_unlinked_login_to_the_link_page(client):
    user = UserFactory()
    response = _login(client, user).get(reverse("eligibility:dashboard"))
    assert response.status_code == 302 and response.url == reverse("eligibility:link")


def test_it_sends_anonymous_visitors_to_log_in(client):
    for name in ("eligibility:dashboard", "eligibility:link", "eligibility:calendar"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_it_shows_staff_without_a_link_no_member_data(client, alice_person):
    staff = UserFactory(is_staff=True)
    response = _login(client, staff).get(reverse("eligibility:dashboard"))
    assert response.status_code == 302 and response.url == reverse("eligibility:link")
    response = client.get(reverse("eligibility:card_facts", args=[alice_person.pk]))
    assert response.status_code == 302  # to the link page, never the person


def test_dashboard_queries_do_not_grow_with_household_size(client, alice, household):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("eligibility:dashboard")).status_code == 200
        return len(ctx.captured_queries)

    from eligibility import contact

    _login(client, alice)
    contact.society()  # the footer's society is loaded once a minute per process, not per page
    client.get("/")  # the session's first page (the employer-contact check is once per session)
    small = count()
    for i in range(3, 9):
        person = PersonFactory(household=household, branch_number=f"{i:02d}", relationship="child")
        CardFactsFactory(person=person)
    assert count() == small


def test_the_first_dashboard_after_signing_in_reads_the_household_in_two_queries_and_writes_nothing(
    client, alice, household, spouse
):
    from eligibility import contact

    contact.society()  # the footer's society: once a minute per process
    response = client.post(reverse("account_login"), {"login": "alice@example.jp", "password": "correct-horse-battery"})
    assert response.status_code == 302
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("eligibility:dashboard"))
    assert page.status_code == 200 and "次郎" in page.content.decode()
    sql = [q["sql"] for q in ctx.captured_queries]
    assert not [q for q in sql if q.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")], sql
    household_reads = [q for q in sql if "eligibility_person" in q or "certificates_" in q or "reminders_" in q]
    assert len(household_reads) == 2, household_reads  # persons; certificates, requests and notices


def test_it_says_when_a_person_has_no_eligibility_today(client, alice, household):
    PersonFactory(household=household, branch_number="05", relationship="child", given_name="退職",
                  eligible_until=date(2026, 4, 1))
    page = _login(client, alice).get(reverse("eligibility:dashboard")).content.decode()
    assert "この健康保険組合の資格がありません" in page


# --- card facts --------------------------------------------------------------------

def test_it_lets_a_member_update_a_household_persons_card_facts(client, alice, spouse):
    url = reverse("eligibility:card_facts", args=[spouse.pk])
    response = _login(client, alice).post(url, {
        "has_card": "yes", "card_expires_on": "2032-05-03", "ecert_choice": "five_years_before",
        "registered": "yes", "uses_smartphone": "no",
    })
    assert response.status_code == 302
    spouse.card.refresh_from_db()
    assert spouse.card.registered and spouse.card.ecert_expires_on == date(2027, 5, 3)
    assert spouse.card.registration_source == "member" and spouse.card.registration_as_of == TODAY
    change = CardFactsChange.objects.get(person=spouse)
    assert change.changed_by == alice
    assert change.before["registered"] is False and change.after["registered"] is True


def test_it_refuses_impossible_dates_with_a_message_in_one_language(client, alice, alice_person):
    url = reverse("eligibility:card_facts", args=[alice_person.pk])
    response = _login(client, alice).post(url, {"has_card": "yes", "card_expires_on": "2031-11-15",
                                                "ecert_choice": "unknown", "registered": "yes"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "誕生日になっているはず" in page and "always a birthday" not in page
    assert not CardFactsChange.objects.exists()


def test_it_shows_the_two_candidates_and_how_to_find_the_real_one(client, alice, spouse):
    page = _login(client, alice).get(reverse("eligibility:card_facts", args=[spouse.pk])).content.decode()
    assert "令和9年5月3日 (2027-05-03)" in page and "令和14年5月3日 (2032-05-03)" in page
    assert "マイナポータル" in page and "有効期限通知書" in page


def test_it_hides_other_households_persons(client, charlie, alice_person):
    response = _login(client, charlie).get(reverse("eligibility:card_facts", args=[alice_person.pk]))
    assert response.status_code == 404
    response = client.post(reverse("eligibility:card_facts", args=[alice_person.pk]), {"has_card": "no"})
    assert response.status_code == 404


def test_it_hides_the_household_from_an_adult_dependent(client, bob, alice_person):
    response = _login(client, bob).get(reverse("eligibility:card_facts", args=[alice_person.pk]))
    assert response.status_code == 404


def test_it_asks_anonymous_visitors_to_log_in_for_card_facts(client, alice_person):
    response = client.get(reverse("eligibility:card_facts", args=[alice_person.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


# --- calendar ----------------------------------------------------------------------

def test_it_exports_the_households_key_dates_as_ics(client, alice, spouse):
    response = _login(client, alice).get(reverse("eligibility:calendar"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    days = sorted(e.decoded("dtstart") for e in cal.walk("VEVENT"))
    # alice: opens, expiry, grace. The spouse's card is not registered: like the dashboard,
    # no renewal or 「利用登録が取り消されます」 years ahead (issue 21).
    assert days == [date(2026, 8, 15), date(2026, 11, 14), date(2027, 2, 28)]
    assert "1234" not in response.content.decode()  # never the 記号・番号


def test_a_dependents_calendar_has_only_their_dates(client, bob, bob_person):
    CardFactsFactory(person=bob_person, card_expires_on=date(2035, 4, 2), ecert_expires_on=date(2030, 4, 2))
    cal = Calendar.from_ical(_login(client, bob).get(reverse("eligibility:calendar")).content)
    assert {e.decoded("dtstart") for e in cal.walk("VEVENT")} == {date(2030, 1, 3), date(2030, 4, 2),
                                                                  date(2030, 7, 31)}


# --- guides ------------------------------------------------------------------------

@pytest.mark.parametrize("slug", ["benefits", "get-card", "register", "smartphone", "renewal", "certificate"])
def test_every_guide_is_public(client, slug):
    response = client.get(reverse("eligibility:guide", args=[slug]))
    assert response.status_code == 200


def test_an_unknown_guide_is_404(client):
    assert client.get("/my/guides/nothing/").status_code == 404


def test_the_renewal_guide_explains_the_grace_period_policy(client):
    page = client.get(reverse("eligibility:guide", args=["renewal"])).content.decode()
    assert "令和8年2月28日 (2026-02-28)" in page  # expiry 2025-11-10 → end of February
    assert "令和8年5月31日 (2026-05-31)" in page  # a February expiry → May 31


def test_the_certificate_guide_follows_the_lapsed_policy_setting(client, settings):
    settings.KENPO_EX_OFFICIO_LAPSED = True
    assert "猶予期間が終わって" in client.get(reverse("eligibility:guide", args=["certificate"])).content.decode()
    settings.KENPO_EX_OFFICIO_LAPSED = False
    assert "猶予期間が終わって" not in client.get(reverse("eligibility:guide", args=["certificate"])).content.decode()


def test_guides_have_english_translations(client):
    client.cookies["django_language"] = "en"
    page = client.get(reverse("eligibility:guide", args=["register"]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Seven Bank ATM" in page


def test_the_bench_view_is_not_routed_by_default(client, alice_person):
    assert client.get(f"/my/bench/bare/{alice_person.pk}/").status_code == 404


def test_the_calendar_leaves_out_a_person_who_is_no_longer_a_member(client, alice, spouse):
    from eligibility.selectors import today

    spouse.eligible_until = today()
    spouse.save()
    cal = Calendar.from_ical(_login(client, alice).get(reverse("eligibility:calendar")).content)
    assert date(2032, 5, 3) not in {e.decoded("dtstart") for e in cal.walk("VEVENT")}


# --- issue #11: contact, links, wording, calendar alarms ---------------------------

def test_the_calendar_rings_at_renewal_at_expiry_and_two_weeks_before_grace_ends(client, alice):
    cal = Calendar.from_ical(_login(client, alice).get(reverse("eligibility:calendar")).content)
    triggers = {}
    for event in cal.walk("VEVENT"):
        alarms = event.walk("VALARM")
        triggers[event.decoded("dtstart")] = alarms[0].decoded("trigger") if alarms else None
    from datetime import timedelta

    # alice: e-certificate 2026-11-14 (today 2026-09-01: the renewal opening 2026-08-15 is past).
    assert triggers[date(2026, 8, 15)] is None  # an alarm in the past would ring at once
    assert triggers[date(2026, 11, 14)] == timedelta(hours=9)
    assert triggers[date(2027, 2, 28)] == timedelta(days=-14, hours=9)
    summaries = " ".join(str(e.get("summary")) for e in cal.walk("VEVENT"))
    assert "電子証明書の有効期限" in summaries  # what expires, as the dashboard says it


def test_the_footer_names_the_society_with_phone_hours_and_address(client, alice, alice_person):
    page = _login(client, alice).get(reverse("eligibility:dashboard")).content.decode()
    society = alice_person.household.society
    for value in (society.name, society.phone, society.hours, society.address):
        assert value in page
    assert 'rel="noopener noreferrer external"' in page and "外部サイト" in page


def test_the_summary_keeps_an_unresolved_status_after_its_notice_is_dismissed(client, alice, alice_person):
    from reminders import scanning as reminder_scanning
    from reminders import services as reminder_services
    from reminders.models import Reminder

    reminder_scanning.scan(day=TODAY)
    for reminder in Reminder.objects.filter(person=alice_person):
        reminder_services.dismiss(reminder=reminder)
    page = _login(client, alice).get(reverse("eligibility:dashboard")).content.decode()
    assert "対応が必要な方が 1 人います" in page and "要対応" in page


def test_the_login_message_names_the_person_never_a_username(client, alice, alice_person):
    from eligibility.selectors import user_display

    assert user_display(alice) == alice_person.name
    assert user_display(UserFactory(username="member", email="someone@example.jp")) == "someone@example.jp"


def test_the_site_is_named_from_settings_not_example_com(settings):
    from django.contrib.sites.models import Site

    assert Site.objects.get_current().domain != "example.com"
    assert Site.objects.get_current().name == "けんぽポータル"
