"""The daily scan: the right rows on the right days, once, set-based."""

import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reminders import services
from reminders.models import Reminder
from tests.factories import HouseholdFactory

from .helpers import person_expiring

pytestmark = pytest.mark.django_db

EXPIRY = date(2026, 11, 14)


def stages_of(person):
    return list(Reminder.objects.filter(person=person).order_by("id").values_list("stage", flat=True))


def test_it_creates_each_stage_on_its_day_and_nothing_in_between():
    person = person_expiring(EXPIRY)
    for day in (date(2026, 8, 13), date(2026, 8, 14), date(2026, 8, 15), date(2026, 11, 14), date(2026, 11, 15),
                date(2027, 1, 28), date(2027, 3, 1), date(2027, 3, 2)):
        services.scan(day=day)
    assert stages_of(person) == ["renewal_open", "expired", "grace_ending", "lapsed"]
    row = Reminder.objects.get(person=person, stage="expired")
    assert (row.expires_on, row.due_on, row.status, row.household_id) == (
        EXPIRY, date(2026, 11, 15), "pending", person.household_id)


def test_running_the_scan_twice_on_a_day_creates_nothing_the_second_time():
    person_expiring(EXPIRY)
    assert services.scan(day=date(2026, 8, 15))["renewal_open"] == 1
    assert services.scan(day=date(2026, 8, 15))["renewal_open"] == 0
    assert Reminder.objects.count() == 1


def test_a_person_past_several_stages_gets_only_the_latest_one():
    person = person_expiring(EXPIRY)
    services.scan(day=date(2027, 2, 1))  # first-ever run, in grace, after grace_ending's date
    assert stages_of(person) == ["grace_ending"]


def test_a_missed_day_is_caught_up_on_the_next_scan():
    person = person_expiring(EXPIRY)
    services.scan(day=date(2026, 8, 16))  # the scan of Aug 15 never ran
    assert stages_of(person) == ["renewal_open"]


def test_it_ignores_persons_no_longer_eligible_and_unregistered_cards():
    person_expiring(EXPIRY, eligible_until=date(2026, 8, 1))
    person_expiring(EXPIRY, registered=False)
    services.scan(day=date(2026, 8, 15))
    assert Reminder.objects.count() == 0


def test_it_ignores_a_member_whose_voluntary_continuation_has_ended():
    ended = HouseholdFactory(voluntary_continuation=True, voluntary_continuation_ends_on=date(2026, 8, 14))
    continuing = HouseholdFactory(voluntary_continuation=True, voluntary_continuation_ends_on=date(2027, 8, 31))
    person_expiring(EXPIRY, household=ended)
    still = person_expiring(EXPIRY, household=continuing)
    services.scan(day=date(2026, 8, 15))
    assert list(Reminder.objects.values_list("person_id", flat=True)) == [still.pk]


def test_the_earlier_of_card_and_certificate_drives_one_reminder():
    person = person_expiring(EXPIRY)
    person.card.card_expires_on = date(2026, 12, 1)
    person.card.save()
    services.scan(day=date(2026, 8, 15))
    services.scan(day=date(2026, 9, 1))
    assert list(Reminder.objects.values_list("stage", "expires_on")) == [("renewal_open", EXPIRY)]


def test_the_scan_is_a_few_statements_whatever_the_number_of_persons():
    household = HouseholdFactory()
    for branch in range(12):
        person_expiring(EXPIRY, household=household, branch_number=f"{branch:02d}")
    with CaptureQueriesContext(connection) as queries:
        created = services.scan(day=date(2026, 8, 15))
    assert created["renewal_open"] == 12
    assert len(queries) <= 8


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_the_same_time_create_each_row_once(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the in-memory test database is not shared across threads")
    for _ in range(30):
        person_expiring(EXPIRY)
    errors = []
    overlapped = threading.Event()
    insert_select = services._insert_select

    def insert_once_the_other_scan_waits(queryset, columns):
        # The first scan to write holds the scan lock: it goes on only once the other
        # scan is inside scan() too, waiting for that lock — so the two really overlap.
        if not overlapped.is_set():
            deadline = time.monotonic() + 20
            with connection.cursor() as cursor:
                while time.monotonic() < deadline:
                    cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                    if cursor.fetchone()[0]:
                        overlapped.set()
                        break
                    time.sleep(0.02)
        return insert_select(queryset, columns)

    monkeypatch.setattr(services, "_insert_select", insert_once_the_other_scan_waits)
    start = threading.Barrier(2)

    def run():
        try:
            start.wait(timeout=20)
            services.scan(day=date(2026, 8, 15))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert overlapped.is_set(), "the second scan never waited for the first: they did not overlap"
    assert Reminder.objects.count() == 30


def test_the_certificate_stage_runs_when_the_certificates_app_is_installed():
    person = person_expiring(date(2035, 1, 1))
    make_certificate(person, valid_until=date(2030, 11, 30))
    created = services.scan(day=date(2030, 9, 30))
    assert created["certificate_ending"] == 1
    assert Reminder.objects.get().subject == "certificate"


def test_the_scan_for_a_day_runs_from_the_admin(staff_client):
    person_expiring(EXPIRY)
    response = staff_client.post("/admin/reminders/reminder/scan/", {"day": "2026-08-15"})
    assert response.status_code == 302
    staff_client.post("/admin/reminders/reminder/scan/", {"day": "2026-08-15"})
    assert Reminder.objects.count() == 1
    assert staff_client.get("/admin/reminders/reminder/scan/").status_code == 200
    assert staff_client.get("/admin/reminders/reminder/counts/").status_code == 200
    assert staff_client.get("/admin/reminders/reminder/?stage__exact=renewal_open").status_code == 200


def test_a_renewal_window_not_yet_open_creates_nothing_until_the_day_it_opens():
    person = person_expiring(EXPIRY + timedelta(days=30))  # 2026-12-14: opens 2026-09-15
    services.scan(day=date(2026, 8, 15))
    services.scan(day=date(2026, 9, 14))
    assert stages_of(person) == []
    services.scan(day=date(2026, 9, 15))
    assert stages_of(person) == ["renewal_open"]


def make_certificate(person, *, valid_until, status="mailed", serial="T-0001"):
    from django.apps import apps
    from django.utils import timezone

    try:
        model = apps.get_model("certificates", "EligibilityCertificate")
    except LookupError:
        pytest.skip("the certificates app has no EligibilityCertificate yet")
    return model.objects.create(
        serial=serial, person=person, basis="cutoff", issued_on=date(2025, 12, 1), valid_until=valid_until,
        delivery_route="employer", queued_at=timezone.now(), status=status,
    )


def test_a_certificate_gets_its_reminder_two_months_before_valid_until():
    person = person_expiring(date(2035, 1, 1))
    make_certificate(person, valid_until=date(2030, 11, 30))
    assert services.scan(day=date(2030, 9, 29)).get("certificate_ending") == 0
    assert services.scan(day=date(2030, 9, 30))["certificate_ending"] == 1
    row = Reminder.objects.get()
    assert (row.subject, row.stage, row.expires_on) == ("certificate", "certificate_ending", date(2030, 11, 30))


def test_a_void_certificate_gets_no_reminder():
    from tests.factories import PersonFactory

    make_certificate(PersonFactory(), valid_until=date(2030, 11, 30), status="void")
    assert services.scan(day=date(2030, 9, 30))["certificate_ending"] == 0
