"""The daily scan: one reminder row per (person, subject, expiry, stage) due on a day.

``INSERT … SELECT … ON CONFLICT DO NOTHING`` on that unique key: running it twice, or
twice at the same time, inserts nothing the second time (reminders/README.md).
Sending the rows is ``reminders.sending``'s job.
"""

import logging
from datetime import date

from django.db import connection, transaction
from django.db.models import Case, CharField, F, Q, Value, When

from audit.services import record
from certificates.models import EligibilityCertificate
from eligibility.selectors import eligible_on

from . import stages
from .models import Reminder

logger = logging.getLogger(__name__)



def _insert_select(queryset, columns: list[str]) -> dict[str, int]:
    """``INSERT INTO reminder (columns) <queryset> ON CONFLICT DO NOTHING``; rows inserted per stage.

    The queryset's values() must list expressions in ``columns``' order. Both
    PostgreSQL and SQLite accept this; SQLite needs the WHERE the ORM always adds.
    """
    select_sql, params = queryset.query.sql_with_params()
    table = Reminder._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    insert = f"INSERT INTO {table} ({quoted}) {select_sql} ON CONFLICT DO NOTHING RETURNING stage"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"WITH made AS ({insert}) SELECT stage, COUNT(*) FROM made GROUP BY stage", params)  # noqa: S608
            return dict(cursor.fetchall())
        cursor.execute(insert, params)
        counts: dict[str, int] = {}
        for (stage,) in cursor.fetchall():
            counts[stage] = counts.get(stage, 0) + 1
        return counts


SCAN_LOCK_KEY = 0x6B656E706F05  # any constant unique to this lock ("kenpo" 5)
SCAN_COLUMNS = ["person_id", "household_id", "subject", "stage", "expires_on", "due_on"]


@transaction.atomic
def scan(*, day: date) -> dict[str, int]:
    """Create the reminder rows due on ``day``: one INSERT … SELECT per stage.

    Only currently eligible persons; for the マイナ保険証, only registered cards
    (the effective expiry is set only when there is a card). Idempotent: the
    same day twice, or two scans at once, create each row once.
    """
    from eligibility.models import Person

    if connection.vendor == "postgresql":
        # Two scans at once (two beats, a staff run during the beat's) would insert
        # the same keys in possibly different orders and could deadlock: the second
        # waits here, then finds every row made. (SQLite serialises writers anyway.)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCAN_LOCK_KEY])
    eligible = Person.objects.filter(eligible_on(day))
    # Each expiry has at most one current stage on a day, so the stages' expiry
    # ranges are disjoint: one statement, one pass over the persons, for all four.
    ranges = {stage: stages.expiry_range(stage, day) for stage in stages.MY_NUMBER_STAGES}
    ranges = {stage: bounds for stage, bounds in ranges.items() if bounds is not None}
    created: dict[str, int] = dict.fromkeys((s.value for s in stages.Stage), 0)
    if ranges:
        in_a_range = Q()
        for bounds in ranges.values():
            in_a_range |= Q(card__effective_expires_on__range=bounds)
        stage_of = Case(
            *(When(card__effective_expires_on__range=bounds, then=Value(stage.value)) for stage, bounds in ranges.items()),
            output_field=CharField(),
        )
        qs = eligible.filter(in_a_range, card__registered=True).values_list(
            F("id"), F("household_id"), Value(stages.Subject.MY_NUMBER.value), stage_of,
            F("card__effective_expires_on"), Value(day),
        )
        created.update(_insert_select(qs, SCAN_COLUMNS))

    bounds = stages.expiry_range(stages.Stage.CERTIFICATE_ENDING, day)
    if bounds is not None:
        qs = (
            EligibilityCertificate.objects.exclude(status=EligibilityCertificate.Status.VOID)
            .filter(valid_until__range=bounds, person__in=eligible.values("id"))
            .values_list(
                F("person_id"), F("person__household_id"), Value(stages.Subject.CERTIFICATE.value),
                Value(stages.Stage.CERTIFICATE_ENDING.value), F("valid_until"), Value(day),
            )
        )
        created[stages.Stage.CERTIFICATE_ENDING.value] = _insert_select(qs, SCAN_COLUMNS).get(
            stages.Stage.CERTIFICATE_ENDING.value, 0)
    logger.info("reminder scan for %s created %s", day.isoformat(), created)
    return created


def scan_by_staff(*, day: date, request) -> dict[str, int]:
    created = scan(day=day)
    record(action="change", request=request, summary=f"期限のお知らせの確認を実行（{day.isoformat()}）",
           details={"day": day.isoformat(), "created": created})
    return created


