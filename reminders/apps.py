from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "期限のお知らせ"

    def ready(self):
        from eligibility.signals import forget_dashboards

        from .models import Reminder

        forget_dashboards(Reminder, by="household")  # the dashboard's notices
