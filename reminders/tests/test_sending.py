"""Sending through a real SMTP server on 127.0.0.1: one e-mail per login, exactly once."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from reminders import scanning, sending
from reminders.models import Reminder
from tests.factories import HouseholdFactory, verified_member

from .helpers import person_expiring

pytestmark = pytest.mark.django_db

EXPIRY = date(2026, 11, 14)
RENEWAL_DAY = date(2026, 8, 15)


@pytest.fixture
def family():
    """An insured person, a spouse without a login and an adult son with his own login, all due."""
    household = HouseholdFactory(symbol="8642", number="97531")
    insured = person_expiring(EXPIRY, household=household, branch_number="00", family_name="佐藤",
                              given_name="花子")
    spouse = person_expiring(EXPIRY, household=household, branch_number="01", relationship="spouse",
                             family_name="佐藤", given_name="健")
    son = person_expiring(EXPIRY, household=household, branch_number="02", relationship="child",
                          family_name="佐藤", given_name="一郎")
    verified_member(insured, "hanako@example.jp")
    verified_member(son, "ichiro@example.jp")
    scanning.scan(day=RENEWAL_DAY)
    return household, insured, spouse, son


def send(household, now=None):
    return sending.send_households(household_ids=[household.pk], now=now)


def body_of(message) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


def test_the_insured_login_gets_one_email_listing_everyone_due(smtp, family):
    household, *_ = family
    send(household)
    [message] = smtp.to("hanako@example.jp")
    text, html = body_of(message)
    for name in ("佐藤 花子", "佐藤 健", "佐藤 一郎"):
        assert name in text and name in html
    assert Reminder.objects.filter(status="sent").count() == 3


def test_a_dependents_own_login_gets_only_their_own_reminder(smtp, family):
    household, *_ = family
    send(household)
    [message] = smtp.to("ichiro@example.jp")
    text, _ = body_of(message)
    assert "佐藤 一郎" in text
    assert "佐藤 花子" not in text and "佐藤 健" not in text
    assert len(smtp.messages) == 2


def test_the_email_is_japanese_with_an_english_part_and_era_dates(smtp, family):
    household, *_ = family
    send(household)
    text, html = body_of(smtp.to("hanako@example.jp")[0])
    assert "令和8年11月14日 (2026-11-14)" in text  # the expiry
    assert "令和8年8月15日 (2026-08-15)" in text  # renewal opens
    assert "市区町村の窓口" in text and "J-LIS" in text
    assert "[English]" in text and "2026-11-14 (Reiwa 8)" in text
    assert 'lang="en"' in html


def test_the_email_never_contains_the_symbol_number_or_any_id(smtp, family):
    household, _insured, _spouse, _son = family
    send(household)
    for message in smtp.messages:
        raw = message.as_string()
        text, html = body_of(message)
        for content in (text, html, message["Subject"], message["Message-ID"]):
            assert "8642" not in content and "97531" not in content
            assert "記号" not in content and "番号" not in content
            # The only link is the dashboard's: no person id in a URL.
            assert set(re.findall(r"https?://[^\s\"<]+", content)) <= {"http://127.0.0.1:8000/my/"}
        assert "8642" not in raw and "97531" not in raw


def test_sending_twice_sends_nothing_the_second_time(smtp, family):
    household, *_ = family
    send(household)
    outcome = send(household)
    assert outcome.emails == 0
    assert len(smtp.messages) == 2


def test_a_household_that_opted_out_gets_no_email_but_keeps_the_notice(smtp, family, client):
    household, *_ = family
    household.email_reminders = False
    household.save()
    send(household)
    assert smtp.messages == []
    assert set(Reminder.objects.values_list("status", flat=True)) == {"skipped"}
    assert Reminder.objects.filter(dismissed_at__isnull=True).count() == 3


def test_a_household_without_a_linked_login_is_skipped(smtp):
    person = person_expiring(EXPIRY)
    scanning.scan(day=RENEWAL_DAY)
    send(person.household)
    assert smtp.messages == []
    assert Reminder.objects.get().status == "skipped"


def test_a_row_claimed_by_a_worker_that_died_is_sent_once_after_the_timeout(smtp, family):
    household, *_ = family
    _token, claimed = sending.claim(household_ids=[household.pk])  # the worker dies right here
    assert claimed == 3
    assert send(household).emails == 0  # still presumed alive
    later = timezone.now() + sending.SENDING_TIMEOUT + timedelta(seconds=1)
    assert send(household, now=later).emails == 2
    assert Reminder.objects.filter(status="sent").count() == 3
    assert len(smtp.messages) == 2


def test_smtp_refusing_is_retried_with_backoff_then_sent_once(smtp, family):
    household, *_ = family
    smtp.refuse()
    outcome = send(household)
    assert outcome.retry_households == [household.pk]
    row = Reminder.objects.first()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Connection" in row.last_error or "refused" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=60)
    assert send(household).emails == 0  # not yet due
    smtp.accept()
    assert send(household, now=row.next_attempt_at + timedelta(seconds=1)).emails == 2
    assert len(smtp.messages) == 2
    assert Reminder.objects.filter(status="sent").count() == 3


def test_a_row_that_keeps_failing_is_marked_failed_and_staff_can_retry_it(
    smtp, family, staff_client, django_capture_on_commit_callbacks
):
    household, *_ = family
    smtp.refuse()
    now = timezone.now()
    for _ in range(sending.MAX_ATTEMPTS):
        send(household, now=now)
        now += timedelta(days=1)
    assert set(Reminder.objects.values_list("status", flat=True)) == {"failed"}
    assert Reminder.objects.first().attempts == sending.MAX_ATTEMPTS
    page = staff_client.get("/admin/reminders/reminder/?status__exact=failed")
    assert "ConnectionRefusedError" in page.content.decode()
    smtp.accept()
    ids = list(Reminder.objects.values_list("id", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/admin/reminders/reminder/", {"action": "retry_failed", "_selected_action": ids})
    assert Reminder.objects.filter(status="sent").count() == 3
    assert len(smtp.messages) == 2


def test_a_retry_after_a_partial_delivery_does_not_resend_to_the_first_login(smtp, family, monkeypatch):
    household, *_ = family
    real = sending.render_email
    calls = []

    def fail_for_the_second(*, to, **kwargs):
        calls.append(to)
        if to == "ichiro@example.jp" and calls.count(to) == 1:
            raise OSError("connection reset")
        return real(to=to, **kwargs)

    monkeypatch.setattr(sending, "render_email", fail_for_the_second)
    send(household)
    assert len(smtp.messages) == 1
    send(household, now=timezone.now() + timedelta(hours=1))
    assert sorted(m["To"] for m in smtp.messages) == ["hanako@example.jp", "ichiro@example.jp"]


def test_the_same_rows_to_the_same_login_keep_their_message_id(smtp, family):
    household, *_ = family
    rows = list(Reminder.objects.values_list("id", flat=True))
    first = sending.message_id_for(row_ids=rows, user_id=7)
    assert first == sending.message_id_for(row_ids=list(reversed(rows)), user_id=7)
    assert first != sending.message_id_for(row_ids=rows, user_id=8)
    send(household)
    assert all(m["Message-ID"].startswith("<reminder.") for m in smtp.messages)


def test_a_reminder_made_moot_by_a_renewal_before_sending_is_skipped(smtp, family):
    household, insured, _spouse, _son = family
    insured.card.ecert_expires_on = date(2031, 11, 14)
    insured.card.card_expires_on = date(2031, 11, 14)
    insured.card.save()
    send(household)
    assert Reminder.objects.get(person=insured).status == "skipped"
    text, _ = body_of(smtp.to("hanako@example.jp")[0])
    assert "■ 佐藤 花子" not in text and "■ 佐藤 健" in text


@pytest.mark.parametrize("stage, expected_ja, expected_en", [
    ("renewal_open", "から、お住まいの市区町村の窓口で電子証明書を更新できます", "renew the certificate at your city office"),
    ("expired", "令和9年2月28日 (2027-02-28) までは", "Until 2027-02-28 (Reiwa 9)"),
    ("grace_ending", "令和9年2月28日 (2027-02-28) で猶予期間が終わります", "grace period ends on 2027-02-28"),
    ("lapsed", "資格確認書を、申請なしでけんぽからお送りします", "without application"),
])
def test_every_stage_says_what_to_do_with_its_dates(stage, expected_ja, expected_en):
    person = person_expiring(EXPIRY)
    row = Reminder(person=person, household=person.household, subject="my_number", stage=stage,
                   expires_on=EXPIRY, due_on=RENEWAL_DAY)
    email = sending.render_email(rows=[row], to="x@example.jp", message_id="<x@example.jp>", day=RENEWAL_DAY)
    ja, en = email.text.split("[English]")
    assert expected_ja in ja and expected_en in en
    assert expected_ja in email.html


def test_a_certificate_reminder_quotes_its_valid_until():
    person = person_expiring(EXPIRY)
    row = Reminder(person=person, household=person.household, subject="certificate", stage="certificate_ending",
                   expires_on=date(2030, 11, 30), due_on=date(2030, 9, 30))
    email = sending.render_email(rows=[row], to="x@example.jp", message_id="<x@example.jp>")
    assert "資格確認書の有効期限は 令和12年11月30日 (2030-11-30) です" in email.text


def test_a_reminder_of_a_person_whose_eligibility_ended_before_sending_is_skipped(smtp, family):
    household, _insured, spouse, _son = family
    spouse.eligible_until = date(2026, 8, 20)
    spouse.save()
    send(household)
    assert Reminder.objects.get(person=spouse).status == "skipped"
    assert "■ 佐藤 健" not in body_of(smtp.to("hanako@example.jp")[0])[0]


def test_a_reminder_is_skipped_once_voluntary_continuation_has_ended(smtp, family):
    household, *_ = family
    household.voluntary_continuation, household.voluntary_continuation_ends_on = True, date(2026, 8, 20)
    household.save()
    send(household)
    assert set(Reminder.objects.values_list("status", flat=True)) == {"skipped"}
    assert not smtp.to("hanako@example.jp")


def test_a_certificate_reminder_is_sent_while_the_certificate_holds_and_skipped_once_void(smtp, family):
    from .test_scan import make_certificate

    household, insured, *_ = family
    certificate = make_certificate(insured, valid_until=date(2030, 11, 30))
    scanning.scan(day=date(2030, 9, 30))
    send(household)
    assert Reminder.objects.get(subject="certificate").status == "sent"
    text, _ = body_of(smtp.to("hanako@example.jp")[-1])
    assert "資格確認書の有効期限は 令和12年11月30日" in text
    certificate.status = "void"
    certificate.save()
    Reminder.objects.filter(subject="certificate").update(status="pending", delivered_to="")
    send(household)
    assert Reminder.objects.get(subject="certificate").status == "skipped"


@pytest.mark.parametrize("backend", [
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",  # the embedded default
])
def test_it_sends_through_any_django_mail_backend_not_only_smtp(settings, family, backend, capsys):
    settings.EMAIL_BACKEND = backend
    household, *_ = family
    outcome = send(household)
    assert outcome.emails == 2 and outcome.failed_rows == 0
    assert Reminder.objects.filter(status="sent").count() == 3
    if backend.endswith("locmem.EmailBackend"):
        from django.core import mail

        assert sorted(m.to[0] for m in mail.outbox) == ["hanako@example.jp", "ichiro@example.jp"]
    else:
        assert "hanako@example.jp" in capsys.readouterr().out


# --- What the e-mail says (issue 11) and how it fails (issue 15) -------------------------


def test_it_says_exactly_which_expires_the_e_certificate_or_the_card(smtp, family):
    household, _insured, spouse, _son = family
    spouse.card.card_expires_on = EXPIRY  # the card itself ends that day (a minor's card, say)
    spouse.card.save()
    send(household)
    text, html = body_of(smtp.to("hanako@example.jp")[0])
    hanako, ken = text.split("■ 佐藤 健")[0], text.split("■ 佐藤 健")[1].split("■")[0]
    assert "マイナンバーカードの電子証明書" in hanako and "電子証明書を更新できます" in hanako
    assert "マイナンバーカード（カードそのもの）の有効期限は" in ken and "事前の申請が必要" in ken
    for content in (text, html):
        assert "またはカード" not in content and "or the card" not in content


def test_on_the_day_renewal_opens_the_jlis_notice_is_still_to_come(smtp, family):
    household, *_ = family
    that_morning = datetime(2026, 8, 15, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    Reminder.objects.update(next_attempt_at=that_morning)
    send(household, now=that_morning)  # sent the day renewal opens: three months before the expiry
    text, _ = body_of(smtp.to("hanako@example.jp")[0])
    ja, en = text.split("[English]")
    assert "有効期限の2〜3か月前に、J-LIS" in ja and "J-LIS mails an expiry notice" in en


def test_sent_late_it_never_says_the_jlis_notice_will_be_mailed():
    person = person_expiring(EXPIRY)
    row = Reminder(person=person, household=person.household, subject="my_number", stage="renewal_open",
                   expires_on=EXPIRY, due_on=RENEWAL_DAY)
    email = sending.render_email(rows=[row], to="x@example.jp", message_id="<x@example.jp>",
                                  day=date(2026, 9, 14))  # exactly two months before the expiry
    assert "すでに郵送されています" in email.text and "has already mailed" in email.text
    assert "郵送されます" not in email.text and "J-LIS mails" not in email.text


@pytest.mark.parametrize("language, subject, present, absent", [
    ("ja", "【けんぽポータル】マイナ保険証・資格確認書の期限のお知らせ", "更新できる期間に入りました", "[English]"),
    ("en", "[Kenpo Portal] Expiry reminder for your My Number insurance card", "renewal is open", "更新"),
    (None, "【けんぽポータル】マイナ保険証・資格確認書の期限のお知らせ / [Kenpo Portal] Expiry reminder",
     "[English]", "@@"),
])
def test_it_is_written_in_the_members_language_with_the_sites_subject_style(
    smtp, family, language, subject, present, absent
):
    from core.email import remember_language

    household, insured, *_ = family
    if language:
        remember_language(user_id=insured.member_links.get().user_id, language=language)
    send(household)
    message = smtp.to("hanako@example.jp")[0]
    text, html = body_of(message)
    assert message["Subject"].startswith(subject)
    assert present in text and absent not in text
    assert f'<html lang="{language or "ja"}">' in html


def test_a_timeout_after_the_final_dot_marks_the_rows_uncertain_and_never_retries(smtp, family, settings):
    household, *_ = family
    settings.EMAIL_TIMEOUT = 1
    smtp.sink.data_delay = 2  # the relay keeps the message but answers too late
    outcome = send(household)
    assert outcome.uncertain_rows == 3 and outcome.emails == 0 and not outcome.retry_households
    assert len(smtp.messages) == 2
    assert set(Reminder.objects.values_list("status", flat=True)) == {"uncertain"}
    smtp.sink.data_delay = 0
    assert send(household, now=timezone.now() + timedelta(days=1)).emails == 0
    assert len(smtp.messages) == 2


def test_the_soft_time_limit_is_never_swallowed_and_releases_the_claim(smtp, family, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from reminders import mail

    household, *_ = family

    def out_of_time(self, built, *, still_mine):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(mail.Mailer, "send", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded):
        send(household)
    assert set(Reminder.objects.values_list("status", "claim_token")) == {("pending", None)}


def test_a_row_is_never_sent_without_a_recipient(smtp, family):
    household, *_ = family
    send(household)
    assert not Reminder.objects.filter(status="sent", delivered_to="").exists()
    assert Reminder.objects.filter(status="sent").count() == 3
