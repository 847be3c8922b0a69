"""The rows the dashboard reads about a household besides its persons — the 資格確認書
(not void), the reissue requests that matter (open, or a helper granted), the reminder
notices not dismissed — in ONE query (a ``UNION ALL`` of three small selects), split back
into plain values here.

The dashboard is opened once by many members on a cold cache (issue 26): every query
it saves is an ORM compile, a round trip and a plan. ``proofs.proofs_for`` and
``reminders.selectors.current_notices`` read these rows; their own callers elsewhere
load them the same way (``load``) or keep their own query.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection

from certificates.models import EligibilityCertificate, Reason, ReissueRequest
from reminders.models import Reminder

HELPER_GRANTED = (ReissueRequest.Status.APPROVED, ReissueRequest.Status.ISSUED)


@dataclass(frozen=True)
class CertificateRow:
    pk: int
    person_id: int
    serial: str
    valid_until: date
    issued_on: date
    status: str
    mailed_at: datetime | None


@dataclass(frozen=True)
class RequestRow:
    pk: int
    person_id: int
    status: str
    reason: str
    created_at: datetime

    def get_status_display(self) -> str:
        return str(ReissueRequest.Status(self.status).label)


@dataclass
class HouseholdRows:
    certificates: list[CertificateRow] = field(default_factory=list)  # oldest issued first
    requests: list[RequestRow] = field(default_factory=list)          # oldest first
    reminders: list[Reminder] = field(default_factory=list)           # unordered, ``person`` attached

    def certificate_days(self) -> set[tuple[int, date]]:
        """(person, valid-until) of every certificate not void (what a reminder row is checked against)."""
        return {(c.person_id, c.valid_until) for c in self.certificates}


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _converters(field) -> tuple:
    column = field.get_col(field.model._meta.db_table)
    return column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)


def _convert(value, converters: tuple):
    column, found = converters
    for convert in found:
        value = convert(value, column, connection)
    return value


def load(persons: list, *, household_id: int | None = None, reminders: bool = True) -> HouseholdRows:
    """The rows of ``persons`` (loaded, with ``household``): certificates and requests, and
    with ``reminders`` the notices of ``household_id`` not dismissed (each given its person).

    Written in SQL (names from the models, every value a parameter): compiling the same
    three selects through the ORM took ten times as long as running them."""
    by_id = {p.pk: p for p in persons}
    if not by_id:
        return HouseholdRows()
    ids = list(by_id)
    marks = _marks(ids)
    certificate, request, reminder = EligibilityCertificate._meta, ReissueRequest._meta, Reminder._meta
    sql = (
        "SELECT 'certificate', id, person_id, valid_until, issued_on, serial, status, mailed_at"  # noqa: S608
        f" FROM {certificate.db_table} WHERE person_id IN ({marks}) AND status <> %s"
        " UNION ALL SELECT 'request', id, person_id, NULL, NULL, status, reason, created_at"
        f" FROM {request.db_table} WHERE person_id IN ({marks})"
        f" AND (status IN ({_marks(ReissueRequest.OPEN)}) OR (reason = %s AND status IN ({_marks(HELPER_GRANTED)})))"
    )
    params = [*ids, EligibilityCertificate.Status.VOID, *ids, *ReissueRequest.OPEN, Reason.NEEDS_HELPER,
              *HELPER_GRANTED]
    if reminders and household_id is not None:
        sql += (" UNION ALL SELECT 'reminder', id, person_id, expires_on, due_on, subject, stage, created_at"  # noqa: S608
                f" FROM {reminder.db_table} WHERE household_id = %s AND person_id IN ({marks})"
                " AND dismissed_at IS NULL")
        params += [household_id, *ids]
    day = _converters(certificate.get_field("valid_until"))
    moment = _converters(certificate.get_field("mailed_at"))
    rows = HouseholdRows()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    for kind, pk, person_id, first_day, other_day, text, other_text, at in fetched:
        first_day, other_day, at = _convert(first_day, day), _convert(other_day, day), _convert(at, moment)
        if kind == "certificate":
            rows.certificates.append(CertificateRow(pk, person_id, text, first_day, other_day, other_text, at))
        elif kind == "request":
            rows.requests.append(RequestRow(pk, person_id, text, other_text, at))
        else:
            notice = Reminder(pk=pk, person_id=person_id, household_id=household_id, subject=text,
                              stage=other_text, expires_on=first_day, due_on=other_day, created_at=at)
            notice.person = by_id[person_id]
            rows.reminders.append(notice)
    rows.certificates.sort(key=lambda c: (c.issued_on, c.pk))
    rows.requests.sort(key=lambda r: (r.created_at, r.pk))
    return rows
