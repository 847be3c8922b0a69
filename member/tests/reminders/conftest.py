"""The reminders tests' fixtures, for the reminder notices moved here."""

from reminders.tests.conftest import _eager_celery, smtp, staff_client  # noqa: F401
