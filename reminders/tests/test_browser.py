"""The dashboard's reminder notices in a real browser: dismiss and the e-mail switch
work without JavaScript, and axe finds no serious WCAG 2.1 AA problem."""

import os
import re
from datetime import date

import pytest

from reminders import scanning
from reminders.models import Reminder
from tests.browser_support import assert_accessible, login
from tests.factories import CardFactsFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_reads_and_dismisses_a_notice_and_turns_email_off(
    browser_page, browser_page_without_js, live_server, alice, alice_person, bob_person,
):
    CardFactsFactory(person=bob_person, ecert_expires_on=date(2026, 11, 14))
    scanning.scan(day=date(2026, 8, 15))
    assert Reminder.objects.count() == 2

    login(browser_page, live_server, "alice@example.jp")
    browser_page.goto(f"{live_server.url}/my/")
    assert browser_page.get_by_role("heading", name="期限のお知らせ").is_visible()
    assert_accessible(browser_page)
    if os.environ.get("KENPO_SCREENSHOTS"):
        browser_page.screenshot(path=os.path.join(os.environ["KENPO_SCREENSHOTS"], "reminder-notices.png"),
                                full_page=True)

    page = browser_page_without_js
    login(page, live_server, "alice@example.jp")
    page.goto(f"{live_server.url}/my/")
    page.get_by_role("button", name=re.compile(r"このお知らせを閉じる\s*（佐藤 花子）")).click()
    page.wait_for_load_state()
    assert Reminder.objects.filter(dismissed_at__isnull=False).count() == 1
    page.get_by_role("button", name="メールを停止する").click()
    page.wait_for_load_state()
    alice_person.household.refresh_from_db()
    assert alice_person.household.email_reminders is False
    assert page.get_by_role("button", name="メールを受け取る").is_visible()
