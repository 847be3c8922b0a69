"""Every stage's date on the R3/R4 edge cases, and the no-backlog rule, without a database."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.stages import Stage, Subject, current_stage, expiry_range, stage_date

# expiry → (renewal_open, expired, grace_ending, lapsed)
CASES = {
    # RULES.md test vectors (ecert column)
    date(2026, 11, 14): (date(2026, 8, 15), date(2026, 11, 15), date(2027, 1, 28), date(2027, 3, 1)),
    date(2024, 10, 10): (date(2024, 7, 11), date(2024, 10, 11), date(2024, 12, 31), date(2025, 2, 1)),
    # month-end clamp: Sep 31 does not exist → Sep 30, opens the day after
    date(2020, 12, 31): (date(2020, 10, 1), date(2021, 1, 1), date(2021, 2, 28), date(2021, 4, 1)),
    # Feb 28 policy date for a Feb 29 birthday; grace ends May 31
    date(2025, 2, 28): (date(2024, 11, 29), date(2025, 3, 1), date(2025, 4, 30), date(2025, 6, 1)),
    # Feb 29 itself, in a leap year
    date(2024, 2, 29): (date(2023, 11, 30), date(2024, 3, 1), date(2024, 4, 30), date(2024, 6, 1)),
    # a May 31 expiry: clamped to Feb 29 / Feb 28, so renewal opens on Mar 1
    date(2024, 5, 31): (date(2024, 3, 1), date(2024, 6, 1), date(2024, 7, 31), date(2024, 9, 1)),
    date(2025, 5, 31): (date(2025, 3, 1), date(2025, 6, 1), date(2025, 7, 31), date(2025, 9, 1)),
    # grace ending in February (expiry in November): one month before Feb 28 is Jan 28
    date(2025, 11, 30): (date(2025, 8, 31), date(2025, 12, 1), date(2026, 1, 28), date(2026, 3, 1)),
    # grace ending in a leap February
    date(2027, 11, 10): (date(2027, 8, 11), date(2027, 11, 11), date(2028, 1, 29), date(2028, 3, 1)),
    # year end
    date(2025, 12, 31): (date(2025, 10, 1), date(2026, 1, 1), date(2026, 2, 28), date(2026, 4, 1)),
}


@pytest.mark.parametrize("expiry", CASES)
def test_each_stage_falls_on_the_rule_date(expiry):
    expected = CASES[expiry]
    got = tuple(stage_date(s, expiry) for s in (Stage.RENEWAL_OPEN, Stage.EXPIRED, Stage.GRACE_ENDING, Stage.LAPSED))
    assert got == expected


def test_a_certificate_reminder_is_two_months_before_valid_until():
    assert stage_date(Stage.CERTIFICATE_ENDING, date(2030, 4, 30)) == date(2030, 2, 28)
    assert stage_date(Stage.CERTIFICATE_ENDING, date(2031, 12, 31)) == date(2031, 10, 31)


def test_each_stage_is_current_from_its_own_date():
    expiry = date(2026, 11, 14)
    for stage in (Stage.RENEWAL_OPEN, Stage.EXPIRED, Stage.GRACE_ENDING, Stage.LAPSED):
        day = stage_date(stage, expiry)
        assert current_stage(expiry, day) == stage
        assert current_stage(expiry, day - timedelta(days=1)) != stage


def test_nothing_is_due_before_renewal_opens():
    assert current_stage(date(2026, 11, 14), date(2026, 8, 14)) is None


def test_a_person_learned_late_gets_only_the_latest_stage_not_a_backlog():
    # Expired 40 days ago: renewal_open is long past, only "expired" still matters.
    expiry = date(2026, 11, 14)
    assert current_stage(expiry, expiry + timedelta(days=40)) == Stage.EXPIRED


def test_the_lapsed_notice_stops_mattering_after_a_year():
    expiry = date(2024, 10, 10)  # grace ended 2025-01-31
    assert current_stage(expiry, date(2026, 1, 31)) == Stage.LAPSED
    assert current_stage(expiry, date(2026, 2, 1)) is None


def test_a_certificate_reminder_matters_until_valid_until():
    until = date(2030, 4, 30)
    assert current_stage(until, date(2030, 2, 27), subject=Subject.CERTIFICATE) is None
    assert current_stage(until, date(2030, 4, 30), subject=Subject.CERTIFICATE) == Stage.CERTIFICATE_ENDING
    assert current_stage(until, date(2030, 5, 1), subject=Subject.CERTIFICATE) is None


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@settings(deadline=None, max_examples=80)
@given(expiry=days, day=days)
def test_the_scans_expiry_range_is_exactly_the_inverse_of_current_stage(expiry, day):
    for stage in Stage:
        subject = Subject.CERTIFICATE if stage == Stage.CERTIFICATE_ENDING else Subject.MY_NUMBER
        bounds = expiry_range(stage, day)
        in_range = bounds is not None and bounds[0] <= expiry <= bounds[1]
        assert in_range == (current_stage(expiry, day, subject=subject) == stage)
