"""The imports tests' fixtures, for the import pages moved here."""

from imports.tests.conftest import _tasks_run_in_process  # noqa: F401
