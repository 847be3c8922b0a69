"""Run the daily reminder scan now, for today or a given day, then enqueue the sending.

    python manage.py scan_reminders                   # today (Asia/Tokyo)
    python manage.py scan_reminders --date 2026-11-26 # catch up after downtime

The same as the 09:00 beat task; running a day twice creates nothing twice. With the
message broker down, the rows are still saved and the command says so (exit 0): the
sweeper sends them once the broker is back.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import translation

from eligibility.selectors import today
from reminders import scanning, sending
from reminders.models import Reminder


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"日付は 2026-11-26 の形で指定してください（{value!r}）。 / Give the date as YYYY-MM-DD ({value!r})."
        ) from None


class Command(BaseCommand):
    help = "期限のお知らせの確認（毎日9時の処理）をいま実行します。 / Run the daily reminder scan now."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=_day, default=None, help="YYYY-MM-DD (default: today in Japan)")

    def handle(self, *args, date: date | None, **options):
        day = date or today()
        try:
            with transaction.atomic():
                created = scanning.scan(day=day)
                households = sending.enqueue_due()
        except sending.BrokerDown as down:  # raised after the commit: the rows are saved
            created = Reminder.objects.filter(due_on=day).count()
            self.stdout.write(f"{day.isoformat()}: {created} 件 / rows for this day")
            with translation.override("en"):  # a console for the IT person: both languages, as above
                english = str(down)
            self.stderr.write(f"{down}\n{english}")
            return
        self.stdout.write(f"{day.isoformat()}: {sum(created.values())} 件を作成 / rows created {created}; "
                          f"{households} 世帯に送信 / households queued")
