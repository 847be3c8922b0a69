"""The certificates tests' fixtures, for the pages of certificates moved here."""

from certificates.tests.conftest import (  # noqa: F401
    _tasks_run_in_process,
    employer,
    insured_and_dependent_72,
    today,
)
