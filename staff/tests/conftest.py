"""Fixtures every staff page test may use; the dashboard's population (one eligible person
in each R5 status, two not eligible) for the list-count tests, which compare the
dashboard with its lists."""

import pytest

from staff.roles import CLERK
from staff.testing import login_with_mfa, make_staff
from staff.tests.test_dashboard import population  # noqa: F401


@pytest.fixture
def clerk(client):
    """A 担当者, logged in on ``client`` with a session that passed MFA."""
    user = make_staff(role=CLERK, email="clerk@kenpo.example.jp")
    login_with_mfa(client, user)
    return user
