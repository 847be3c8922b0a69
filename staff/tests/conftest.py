"""Fixtures every staff page test may use."""

import pytest

from staff.roles import CLERK
from staff.testing import login_with_mfa, make_staff


@pytest.fixture
def clerk(client):
    """A 担当者, logged in on ``client`` with a session that passed MFA."""
    user = make_staff(role=CLERK, email="clerk@kenpo.example.jp")
    login_with_mfa(client, user)
    return user
