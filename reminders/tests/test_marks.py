"""The marks, overlapped: message N's mark travels while N+1 goes out, never past N+1's final ".".

These run outside a transaction (``transactional_db``), as a worker does: only there do the
marks go on a connection of their own. What the sink sees is checked on a third
connection, which sees committed rows only.
"""

import threading
from datetime import date

import psycopg2
import pytest
from django.db import connection

from reminders import marks, scanning, sending
from reminders.models import Reminder
from tests.factories import HouseholdFactory, verified_member

from .helpers import person_expiring

pytestmark = pytest.mark.services

EXPIRY = date(2026, 11, 14)
RENEWAL_DAY = date(2026, 8, 15)


@pytest.fixture
def households(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("overlapped marks are a PostgreSQL connection of their own")
    ids = []
    for n in range(6):
        household = HouseholdFactory()
        verified_member(person_expiring(EXPIRY, household=household, given_name=f"{n}"), f"member{n}@example.jp")
        ids.append(household.pk)
    scanning.scan(day=RENEWAL_DAY)
    return ids


@pytest.fixture
def onlooker():
    """A connection of the test's own: what any other worker would see (committed rows)."""
    db = connection.settings_dict
    conn = psycopg2.connect(dbname=db["NAME"], user=db["USER"] or "postgres", host=db["HOST"] or "127.0.0.1",
                            port=db["PORT"] or 5432)
    conn.autocommit = True
    yield conn
    conn.close()


def recorded(conn) -> int:
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {Reminder._meta.db_table} WHERE delivered_to <> ''")
        return cursor.fetchone()[0]


def test_each_message_is_delivered_only_after_the_previous_ones_mark_committed(households, smtp, onlooker):
    seen = []
    # Runs when the relay has kept a message, before its "250": every earlier message must
    # already be recorded for every other worker — so a crash here doubles this one only.
    smtp.sink.after_data = lambda: seen.append(recorded(onlooker))
    outcome = sending.send_households(household_ids=households)
    assert seen == [0, 1, 2, 3, 4, 5]
    assert outcome.emails == 6
    assert Reminder.objects.filter(status="sent").count() == 6
    assert marks._line is not None  # the marks went on their own connection


def test_the_next_message_waits_for_a_slow_mark_before_its_final_dot(households, smtp, onlooker):
    released = threading.Event()
    order = []

    def hold_the_mark_of_the_third():
        order.append(len(smtp.messages))
        if len(smtp.messages) == 3:  # the third message's row is locked: its mark must wait
            onlooker.autocommit = False
            with onlooker.cursor() as cursor:
                cursor.execute(f"SELECT id FROM {Reminder._meta.db_table} WHERE status = 'sending' "
                               "AND delivered_to = '' ORDER BY id LIMIT 1 FOR UPDATE")

            def release():
                released.set()  # before the commit: the fourth message may come only after it
                onlooker.commit()

            threading.Timer(0.5, release).start()
        elif len(smtp.messages) == 4:
            order.append(released.is_set())

    smtp.sink.after_data = hold_the_mark_of_the_third
    sending.send_households(household_ids=households)
    assert order == [1, 2, 3, 4, True, 5, 6]
    assert Reminder.objects.filter(status="sent").count() == 6


def test_a_mark_whose_own_connection_died_is_recorded_on_djangos_and_doubles_nothing(households, smtp, onlooker):
    terminated = []

    def line_dies():  # the line's backend is terminated before the mark of this message
        if len(smtp.messages) == 3 and marks._line is not None:
            with onlooker.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [marks._line[1].get_backend_pid()])
                terminated.append(cursor.fetchone()[0])

    smtp.sink.after_data = line_dies
    sending.send_households(household_ids=households)
    assert terminated == [True]
    assert sorted(m["To"] for m in smtp.messages) == [f"member{n}@example.jp" for n in range(6)]
    assert Reminder.objects.filter(status="sent").count() == 6
    assert not Reminder.objects.filter(status="sent", delivered_to="").exists()


def test_inside_a_transaction_every_mark_waits_on_djangos_connection(households, smtp):
    from django.db import transaction

    with transaction.atomic():  # another connection would not see the claim: no line
        assert marks.Marks().line is None
        sending.send_households(household_ids=households[:2])
    assert Reminder.objects.filter(status="sent").count() == 2
