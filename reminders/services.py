"""Staff and member actions on reminders: re-send, dismiss a notice, e-mail on or off.

The daily scan is ``reminders.scanning``; claiming and sending, ``reminders.sending``.
"""

import re

from django.db import transaction
from django.utils import timezone

from audit.services import record
from eligibility import dashboard_cache
from eligibility.models import Household

from .models import Reminder
from .sending import BrokerDown, enqueue_due


def retry_failed(*, reminders, request=None) -> int:
    """Staff: failed rows go back to pending with fresh attempts, and are sent now.

    Uncertain rows too (staff checked the mail server's log and found the message was
    not delivered): the logins marked "maybe" get it again, with the same Message-ID
    when the rows are the same, so a mail system or the member can recognise a copy.
    """
    uncertain = list(reminders.filter(status=Reminder.Status.UNCERTAIN))
    for row in uncertain:
        row.delivered_to = re.sub(r",\?\d+,", "", row.delivered_to)
    Reminder.objects.bulk_update(uncertain, ["delivered_to"])
    count = reminders.filter(status__in=[Reminder.Status.FAILED, Reminder.Status.UNCERTAIN]).update(
        status=Reminder.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), enqueued_at=None,
        claim_token=None,
    )
    if request is not None:
        record(action="change", request=request, summary=f"送信失敗・送信結果不明の期限のお知らせ{count}件を再送")
    transaction.on_commit(_enqueue_or_leave_to_the_sweeper)
    return count


def _enqueue_or_leave_to_the_sweeper() -> None:
    try:
        enqueue_due()
    except BrokerDown:
        pass  # logged; the rows are pending and the sweeper sends them


def dismiss(*, reminder: Reminder) -> None:
    """Member: hide the dashboard notice (the e-mail state is not touched)."""
    Reminder.objects.filter(pk=reminder.pk, dismissed_at__isnull=True).update(dismissed_at=timezone.now())
    dashboard_cache.forget_households([reminder.household_id])


def set_email_reminders(*, household: Household, enabled: bool, request) -> None:
    Household.objects.filter(pk=household.pk).update(email_reminders=enabled)
    household.email_reminders = enabled
    dashboard_cache.forget_households([household.pk])
    record(action="change", request=request, obj=household, household=household,
           summary="期限のお知らせメールを受け取る" if enabled else "期限のお知らせメールを停止")
