"""Writes of the reminders app: the daily scan, claiming and sending, staff actions.

Exactly once, from database state:

* The scan inserts rows with ``INSERT … SELECT … ON CONFLICT DO NOTHING`` on the
  unique key (person, subject, expiry, stage): running it twice, or twice at the
  same time, inserts nothing the second time.
* Sending claims rows with a conditional ``UPDATE … WHERE status = 'pending'``
  (healthchecks' style): a task delivered twice finds nothing left to claim.
* Each e-mail is recorded as delivered (``delivered_to``) right after the SMTP
  server accepted it, row by row, recipient by recipient; a retry skips those.
* A row left in ``sending`` (worker killed) is claimable again after
  ``SENDING_TIMEOUT``, longer than Celery's hard time limit, so the first worker is
  surely dead. The sweeper (``send_pending``) re-enqueues anything unsent.

The one window left (at-least-once, documented in README): a worker killed after the
SMTP server accepted a message and before the UPDATE that records it — a few
milliseconds. Its re-send carries the same Message-ID (derived from the rows and
the recipient), so mail systems and staff can recognise the duplicate.
"""

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import Case, CharField, F, Q, Value, When
from django.template.loader import render_to_string
from django.utils import timezone

from audit.services import record
from eligibility import dashboard_cache
from eligibility.models import Household
from eligibility.selectors import eligible_on

from . import stages
from .models import Reminder
from .selectors import certificate_model, recipients_for, still_relevant, valid_certificates

logger = logging.getLogger(__name__)

# A claim older than this is presumed dead (must exceed CELERY_TASK_TIME_LIMIT).
SENDING_TIMEOUT = timedelta(seconds=getattr(settings, "KENPO_REMINDER_SENDING_TIMEOUT", 1800))
# An enqueued row not yet claimed after this long is enqueued again (message lost).
REENQUEUE_AFTER = timedelta(seconds=getattr(settings, "KENPO_REMINDER_REENQUEUE_AFTER", 1800))
MAX_ATTEMPTS = getattr(settings, "KENPO_REMINDER_MAX_ATTEMPTS", 5)
# Retry n waits BACKOFF_BASE * 4**(n-1): 2 min, 8 min, 32 min, ~2 h.
BACKOFF_BASE = timedelta(seconds=getattr(settings, "KENPO_REMINDER_BACKOFF_BASE", 120))
HOUSEHOLDS_PER_TASK = 50


# --- The scan --------------------------------------------------------------------


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
    created: dict[str, int] = dict.fromkeys((s.value for s in stages.MY_NUMBER_STAGES), 0)
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

    certificate = certificate_model()
    bounds = stages.expiry_range(stages.Stage.CERTIFICATE_ENDING, day)
    if certificate is not None and bounds is not None:
        qs = (
            certificate.objects.exclude(status="void")
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


# --- Enqueueing (the sweeper) -------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(status=Reminder.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Reminder.Status.SENDING, claimed_at__lt=now - SENDING_TIMEOUT
    )


def households_to_enqueue(*, now: datetime | None = None, limit: int = 20_000) -> list[int]:
    """Mark claimable rows as enqueued and return their households (set-based).

    Rows enqueued less than REENQUEUE_AFTER ago are left alone, so the sweeper
    does not flood the queue while a backlog is being sent.
    """
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Reminder.objects.filter(_claimable(now))
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REENQUEUE_AFTER))
            .values_list("household_id", flat=True)
            .distinct()
            .order_by("household_id")[:limit]
        )
        if ids:
            Reminder.objects.filter(_claimable(now), household_id__in=ids).update(enqueued_at=now)
    return ids


def enqueue_due(*, now: datetime | None = None) -> int:
    """Send every claimable row: one task per HOUSEHOLDS_PER_TASK households, after commit."""
    from .tasks import send_batch

    ids = households_to_enqueue(now=now)
    for start in range(0, len(ids), HOUSEHOLDS_PER_TASK):
        chunk = ids[start:start + HOUSEHOLDS_PER_TASK]
        transaction.on_commit(lambda chunk=chunk: send_batch.delay(chunk))
    return len(ids)


# --- Sending ------------------------------------------------------------------------


@dataclass
class SendOutcome:
    emails: int = 0
    sent_rows: int = 0
    skipped_rows: int = 0
    retry_households: list[int] = field(default_factory=list)
    failed_rows: int = 0
    retry_in: timedelta | None = None


def claim(*, household_ids: list[int], now: datetime | None = None) -> tuple[uuid.UUID, int]:
    """pending → sending for these households' claimable rows; 0 claimed = someone else has them."""
    now = now or timezone.now()
    token = uuid.uuid4()
    count = Reminder.objects.filter(_claimable(now), household_id__in=household_ids).update(
        status=Reminder.Status.SENDING, claim_token=token, claimed_at=now
    )
    return token, count


def message_id_for(*, row_ids: list[int], user_id: int) -> str:
    """The same rows to the same login always get the same Message-ID (no identifier in it)."""
    digest = hashlib.sha256(f"{sorted(row_ids)}:{user_id}:{settings.SECRET_KEY}".encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">").strip() or "kenpo.invalid"
    return f"<reminder.{digest}@{domain}>"


def render_email(*, rows: list[Reminder], to: str, message_id: str) -> EmailMultiAlternatives:
    """The message for one login: every person due, Japanese first, then English.

    Names and dates only: never 記号・番号, branch numbers or any database id (R9).
    """
    items = [
        {"name": row.person.name, "stage": row.stage, "subject": row.subject, **stages.key_dates(row.expires_on),
         "certificate_valid_until": row.expires_on}
        for row in sorted(rows, key=lambda r: (r.person.branch_number, r.subject, r.stage))
    ]
    context = {
        "items": items,
        "site_url": settings.SITE_URL.rstrip("/"),
        "ex_officio_lapsed": getattr(settings, "KENPO_EX_OFFICIO_LAPSED", True),
    }
    email = EmailMultiAlternatives(
        subject="【けんぽポータル】マイナ保険証・資格確認書の期限のお知らせ / Expiry reminder",
        body=render_to_string("email/reminders/reminder.txt", context),
        to=[to],
        headers={"Message-ID": message_id},
    )
    email.attach_alternative(render_to_string("email/reminders/reminder.html", context), "text/html")
    return email


def _mark_delivered(
    *, token: uuid.UUID, household_id: int, row_ids: list[int], user_id: int, message_id: str, finish: bool
) -> int:
    """Record that ``user_id`` got these rows; with ``finish``, mark the household's rows sent.

    One UPDATE either way, written in SQL because it runs once per e-mail (the ORM
    took longer to build it than the database to run it). Returns the rows marked sent.
    """
    table = Reminder._meta.db_table
    id_list = ", ".join(str(int(i)) for i in row_ids)
    token_value = Reminder._meta.get_field("claim_token").get_db_prep_value(token, connection)
    delivered = (f"delivered_to = CASE WHEN id IN ({id_list}) THEN delivered_to || %s ELSE delivered_to END, "
                 f"message_id = CASE WHEN id IN ({id_list}) THEN %s ELSE message_id END")
    params: list = [f",{user_id},", message_id]
    if finish:
        sql = (f"UPDATE {table} SET {delivered}, status = %s, sent_at = %s, claim_token = NULL, last_error = '' "  # noqa: S608
               "WHERE claim_token = %s AND household_id = %s")
        params += [Reminder.Status.SENT.value, connection.ops.adapt_datetimefield_value(timezone.now()),
                   token_value, household_id]
    else:
        sql = f"UPDATE {table} SET {delivered} WHERE claim_token = %s AND id IN ({id_list})"  # noqa: S608
        params += [token_value]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount if finish else 0


def _backoff(attempts: int) -> timedelta:
    return BACKOFF_BASE * (4 ** max(attempts - 1, 0))


def _record_failure(*, token: uuid.UUID, household_id: int, error: str, now: datetime) -> tuple[int, int]:
    """Back to pending with a backoff, or failed after MAX_ATTEMPTS; (retried, failed) rows."""
    mine = Reminder.objects.filter(claim_token=token, household_id=household_id, status=Reminder.Status.SENDING)
    failed = mine.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
        status=Reminder.Status.FAILED, attempts=F("attempts") + 1, last_error=error[:2000], claim_token=None
    )
    retried = 0
    for attempts in set(mine.values_list("attempts", flat=True)):
        retried += mine.filter(attempts=attempts).update(
            status=Reminder.Status.PENDING, attempts=attempts + 1, last_error=error[:2000], claim_token=None,
            next_attempt_at=now + _backoff(attempts + 1), enqueued_at=now,
        )
    return retried, failed


def send_households(*, household_ids: list[int], now: datetime | None = None) -> SendOutcome:
    """Claim, send and record the reminders of these households: one e-mail per login.

    An insured person's login gets every person of the household due; a dependent's
    own login gets only their own. Households that opted out, or have no linked
    login, are marked ``skipped`` (the dashboard notice still shows).
    """
    now = now or timezone.now()
    outcome = SendOutcome()
    token, claimed = claim(household_ids=household_ids, now=now)
    if not claimed:
        return outcome
    rows = list(Reminder.objects.filter(claim_token=token).select_related("person__card").order_by("id"))
    by_household: dict[int, list[Reminder]] = {}
    for row in rows:
        by_household.setdefault(row.household_id, []).append(row)
    wants_email = dict(Household.objects.filter(id__in=by_household).values_list("id", "email_reminders"))
    recipients = recipients_for(household_ids=list(by_household))
    certificates = valid_certificates(rows)
    day = timezone.localdate(now)

    mail = get_connection()
    try:
        for household_id, household_rows in by_household.items():
            relevant = [r for r in household_rows if still_relevant(r, day=day, certificates=certificates)]
            moot = [r.id for r in household_rows if r not in relevant]
            if moot:
                outcome.skipped_rows += Reminder.objects.filter(claim_token=token, id__in=moot).update(
                    status=Reminder.Status.SKIPPED, last_error="送信前に状況が変わりました（更新・資格喪失など）", claim_token=None
                )
            logins = recipients.get(household_id, []) if wants_email.get(household_id) else []
            if not logins:
                outcome.skipped_rows += Reminder.objects.filter(
                    claim_token=token, household_id=household_id
                ).update(status=Reminder.Status.SKIPPED, claim_token=None, sent_at=now,
                         last_error="" if wants_email.get(household_id) else "メール不要の設定")
                continue
            messages = []
            for login in logins:
                visible = [
                    r.id for r in relevant
                    if (login.sees_household or r.person_id == login.person_id)
                    and f",{login.user_id}," not in r.delivered_to
                ]
                if visible:
                    messages.append((login, visible))
            try:
                if messages:
                    mail.open()  # one SMTP connection for the whole batch (a no-op if open, or not SMTP)
                for index, (login, visible) in enumerate(messages):
                    message_id = message_id_for(row_ids=visible, user_id=login.user_id)
                    rows_for_login = [r for r in relevant if r.id in visible]
                    mail.send_messages([render_email(rows=rows_for_login, to=login.email, message_id=message_id)])
                    # Recorded at once: the window for a duplicate is this one UPDATE.
                    # The household's last e-mail also marks its rows sent, in the same UPDATE.
                    last = index == len(messages) - 1
                    sent = _mark_delivered(token=token, household_id=household_id, row_ids=visible,
                                           user_id=login.user_id, message_id=message_id, finish=last)
                    outcome.emails += 1
                    outcome.sent_rows += sent
            except Exception as exc:
                logger.warning("reminder e-mail for a household failed: %s", type(exc).__name__)
                try:
                    mail.close()
                except Exception:  # noqa: S110
                    pass
                retried, failed = _record_failure(
                    token=token, household_id=household_id, error=f"{type(exc).__name__}: {exc}", now=now
                )
                outcome.failed_rows += failed
                if retried:
                    outcome.retry_households.append(household_id)
                continue
            if not messages:  # everything was delivered before a crash: only the mark was missing
                outcome.sent_rows += Reminder.objects.filter(claim_token=token, household_id=household_id).update(
                    status=Reminder.Status.SENT, sent_at=timezone.now(), claim_token=None, last_error=""
                )
    finally:
        try:
            mail.close()
        except Exception:  # noqa: S110
            pass
    if outcome.retry_households:
        attempts = Reminder.objects.filter(
            household_id__in=outcome.retry_households, status=Reminder.Status.PENDING
        ).values_list("attempts", flat=True)
        outcome.retry_in = _backoff(min(attempts, default=1))
    return outcome


# --- Staff and member actions -------------------------------------------------------------


def retry_failed(*, reminders, request=None) -> int:
    """Staff: failed rows go back to pending with fresh attempts, and are sent now."""
    count = reminders.filter(status=Reminder.Status.FAILED).update(
        status=Reminder.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), enqueued_at=None,
        claim_token=None,
    )
    if request is not None:
        record(action="change", request=request, summary=f"送信失敗の期限のお知らせ{count}件を再送")
    transaction.on_commit(enqueue_due)
    return count


def dismiss(*, reminder: Reminder) -> None:
    """Member: hide the dashboard notice (the e-mail state is not touched)."""
    Reminder.objects.filter(pk=reminder.pk, dismissed_at__isnull=True).update(dismissed_at=timezone.now())
    dashboard_cache.forget_households([reminder.household_id])


def set_email_reminders(*, household: Household, enabled: bool, request) -> None:
    Household.objects.filter(pk=household.pk).update(email_reminders=enabled)
    household.email_reminders = enabled
    dashboard_cache.forget_households([household.pk])
    record(action="change", request=request, obj=household, household=household,
           summary="期限のお知らせメールを受け取る" if enabled else "期限のお知らせメールを停止")
