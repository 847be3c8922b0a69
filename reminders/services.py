"""Writes of the reminders app: the daily scan, claiming and sending, staff actions.

Exactly once, from database state (reminders/README.md says where it cannot be):

* The scan inserts rows with ``INSERT … SELECT … ON CONFLICT DO NOTHING`` on the
  unique key (person, subject, expiry, stage): running it twice, or twice at the
  same time, inserts nothing the second time.
* Sending claims rows with a conditional ``UPDATE … WHERE status = 'pending'``
  (healthchecks' style): a task delivered twice finds nothing left to claim. The
  claim is a lease, checked before each household and right before each message's
  final "."; a worker that lost it (frozen past SENDING_TIMEOUT, taken over) stops.
* Each e-mail is recorded (``delivered_to``) right after the SMTP server accepted
  it, before the next one is sent. A retry skips those logins.
* A row is ``sent`` only when every login that may see it got it; ``skipped`` when
  none may; ``uncertain`` when the server may have kept a message (no reply after
  the data) — never re-sent automatically.
* A row left in ``sending`` (worker killed) is claimable again after
  ``SENDING_TIMEOUT``. The sweeper (``send_pending``) re-enqueues anything unsent.
"""

import hashlib
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, F, Q, Value, When
from django.utils import timezone

from audit.services import record
from eligibility import dashboard_cache
from eligibility.models import Household
from eligibility.selectors import eligible_on

from . import mail, stages
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
# Delivery marks commit without waiting for the disk flush (see _record); False trades
# about a third of the sending rate for no duplicates after a database-server crash.
MARK_WITHOUT_FLUSH = getattr(settings, "KENPO_REMINDER_MARK_WITHOUT_FLUSH", True)


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


class BrokerDown(Exception):
    """The rows are saved, but their sending could not be queued: the sweeper will send them."""

    message = ("お知らせは保存しました。メッセージブローカー（Redis）に接続できないため、いまは送信を予約できませんでした。"
               "ブローカーが戻れば、15分ごとの確認（send_pending）で自動的に送信されます。 / "
               "The reminders are saved. The message broker (Redis) cannot be reached, so their sending could "
               "not be queued now; once it is back, the sweeper (send_pending, every 15 minutes) sends them.")


def enqueue_due(*, now: datetime | None = None) -> int:
    """Send every claimable row: one task per HOUSEHOLDS_PER_TASK households, after commit.

    With the broker down, the households not queued are left for the next sweep and
    ``BrokerDown`` is raised (after the commit: the rows are saved either way).
    """
    ids = households_to_enqueue(now=now)
    if ids:
        transaction.on_commit(lambda: _publish(ids))
    return len(ids)


def _publish(ids: list[int]) -> None:
    from kombu.exceptions import KombuError

    from .tasks import send_batch

    for start in range(0, len(ids), HOUSEHOLDS_PER_TASK):
        try:
            send_batch.delay(ids[start:start + HOUSEHOLDS_PER_TASK])
        except (KombuError, OSError) as exc:
            # Not queued: the next sweep must not wait REENQUEUE_AFTER for these.
            Reminder.objects.filter(household_id__in=ids[start:], status=Reminder.Status.PENDING).update(
                enqueued_at=None)
            logger.warning("reminder sending not queued, broker unreachable (%s); left for the sweeper",
                           type(exc).__name__)
            raise BrokerDown(BrokerDown.message) from None


# --- Sending ------------------------------------------------------------------------

# A holder re-confirms (extends) its claim in the database when it last did so longer
# ago than this, measured on its own clock from before that UPDATE; until then nobody
# can have taken the rows over (that needs claimed_at older than SENDING_TIMEOUT).
LEASE_REFRESH = SENDING_TIMEOUT / 4

SKIP_MOOT = "送信前に状況が変わりました（更新・資格喪失など）"
SKIP_OPTED_OUT = "メール不要の設定"
SKIP_UNSEEN = "このお知らせを見られるログインがありません（ポータルには表示されます）"
UNCERTAIN = ("送信結果が不明です（メールサーバーの応答がないまま切れました。受け取られた可能性があります）。"
             "自動では再送しません：")


@dataclass
class SendOutcome:
    emails: int = 0
    sent_rows: int = 0
    skipped_rows: int = 0
    uncertain_rows: int = 0
    retry_households: list[int] = field(default_factory=list)
    failed_rows: int = 0
    retry_in: timedelta | None = None
    claim_lost: bool = False


def claim(*, household_ids: list[int], now: datetime | None = None) -> tuple[uuid.UUID, int]:
    """pending → sending for these households' claimable rows; 0 claimed = someone else has them."""
    now = now or timezone.now()
    token = uuid.uuid4()
    count = Reminder.objects.filter(_claimable(now), household_id__in=household_ids).update(
        status=Reminder.Status.SENDING, claim_token=token, claimed_at=now
    )
    return token, count


class Lease:
    """The claim of one batch: checked before each household and each e-mail.

    Cheap while fresh (a clock read); past ``LEASE_REFRESH`` one UPDATE extends
    ``claimed_at`` of every row still held, and fewer rows than held means another
    worker took some over (this one was frozen or stalled past SENDING_TIMEOUT).
    """

    def __init__(self, *, token: uuid.UUID, row_ids, confirmed_at: float):
        self.token = token
        self.held = set(row_ids)
        self.confirmed_at = confirmed_at
        self.lost = False

    def still_mine(self) -> bool:
        if self.lost:
            return False
        if time.monotonic() - self.confirmed_at < LEASE_REFRESH.total_seconds():
            return True
        started = time.monotonic()
        extended = Reminder.objects.filter(claim_token=self.token, id__in=self.held).update(claimed_at=timezone.now())
        if extended < len(self.held):
            self.lost = True
            return False
        self.confirmed_at = started
        return True

    def release(self, row_ids) -> None:
        self.held.difference_update(row_ids)


def message_id_for(*, row_ids: list[int], user_id: int) -> str:
    """The same rows to the same login always get the same Message-ID (no identifier in it)."""
    digest = hashlib.sha256(f"{sorted(row_ids)}:{user_id}:{settings.SECRET_KEY}".encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">").strip() or "kenpo.invalid"
    return f"<reminder.{digest}@{domain}>"


def render_email(*, rows: list[Reminder], to: str, message_id: str, language: str | None = None,
                 day: date | None = None) -> mail.Built:
    """The message for one login: every listed person, in the login's language (unknown:
    Japanese, then English). Names and dates only: never 記号・番号 or any id (R9)."""
    day = day or timezone.localdate()
    rows = sorted(rows, key=lambda r: (r.person.branch_number, r.subject, r.stage))
    return mail.build(names=[r.person.name for r in rows], items=[mail.item_for(r, day=day) for r in rows],
                      languages=mail.languages_for(language), to=to, message_id=message_id)


def _ids(ids) -> str:
    return ", ".join(str(int(i)) for i in ids)


def _record(*, token: uuid.UUID, marked=(), entry: str = "", message_id: str = "",
            final: dict[tuple[str, str], list[int]] | None = None, now: datetime | None = None) -> int:
    """One UPDATE, only on rows still claimed with ``token``; returns how many it matched.

    ``marked`` rows get ``entry`` appended to delivered_to (``,7,`` accepted by the SMTP
    server for login 7, ``,?7,`` maybe accepted) and ``message_id``; ``final`` rows
    ({(status, note): ids}) get their final status and are released. Raw SQL because it
    runs once per e-mail (the ORM took longer to build it than the database to run it).
    """
    sets: list[str] = []
    params: list = []
    touched = set(marked)
    if marked:
        ids = _ids(marked)
        sets += [f"delivered_to = CASE WHEN id IN ({ids}) THEN delivered_to || %s ELSE delivered_to END",
                 f"message_id = CASE WHEN id IN ({ids}) THEN %s ELSE message_id END"]
        params += [entry, message_id]
    final = {key: ids for key, ids in (final or {}).items() if ids}
    if final:
        whens = []
        for ids in final.values():
            touched.update(ids)
            whens.append(f"WHEN id IN ({_ids(ids)}) THEN %s")
        done = _ids(set().union(*final.values()))
        sets += [f"status = CASE {' '.join(whens)} ELSE status END",
                 f"last_error = CASE {' '.join(whens)} ELSE last_error END",
                 f"claim_token = CASE WHEN id IN ({done}) THEN NULL ELSE claim_token END",
                 f"sent_at = CASE WHEN id IN ({done}) THEN %s ELSE sent_at END"]
        params += [status for status, _note in final]
        params += [note[:2000] for _status, note in final]
        params.append(connection.ops.adapt_datetimefield_value(now or timezone.now()))
    if not touched:
        return 0
    params.append(Reminder._meta.get_field("claim_token").get_db_prep_value(token, connection))
    sql = f"UPDATE {Reminder._meta.db_table} SET {', '.join(sets)} WHERE claim_token = %s AND id IN ({_ids(touched)})"  # noqa: S608
    if connection.vendor == "postgresql":
        # One statement string, one implicit transaction: only this commit skips the wait
        # for the disk flush (most of its time). It is visible to every worker at once and
        # survives a crash of this worker; a crash of the database server itself may lose
        # the last ~0.6 s of marks (3 × wal_writer_delay): see reminders/README.md.
        if MARK_WITHOUT_FLUSH:
            sql = "SET LOCAL synchronous_commit TO off; " + sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        matched = cursor.rowcount
    if matched < len(touched):
        raise mail.ClaimLost
    return matched


def _backoff(attempts: int) -> timedelta:
    return BACKOFF_BASE * (4 ** max(attempts - 1, 0))


def _record_failure(*, token: uuid.UUID, row_ids, error: str, now: datetime) -> tuple[int, int]:
    """Back to pending with a backoff, or failed after MAX_ATTEMPTS; (retried, failed) rows."""
    mine = Reminder.objects.filter(claim_token=token, id__in=list(row_ids), status=Reminder.Status.SENDING)
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


def _release(token: uuid.UUID) -> int:
    """Rows this claim still holds go back to pending, for the next sweep (claim lost, time limit)."""
    return Reminder.objects.filter(claim_token=token, status=Reminder.Status.SENDING).update(
        status=Reminder.Status.PENDING, claim_token=None, enqueued_at=None
    )


@dataclass
class _Batch:
    lease: Lease
    day: date
    now: datetime
    recipients: dict
    wants_email: dict
    certificates: set
    mailer: mail.Mailer
    outcome: SendOutcome


def _final_statuses(rows: list[Reminder], seers: dict[int, list], error: str) -> tuple[dict, list[int]]:
    """Each row's final status from its delivered_to, or (second value) the rows to retry.

    A row no login may see: skipped. Accepted for every login that may see it: sent.
    Every such login accepted or uncertain: uncertain. Any login still without it: retry.
    """
    final: dict[tuple[str, str], list[int]] = {}
    retry = []
    for row in rows:
        logins = seers[row.id]
        if not logins:
            final.setdefault((Reminder.Status.SKIPPED.value, SKIP_UNSEEN), []).append(row.id)
        elif all(f",{login.user_id}," in row.delivered_to for login in logins):
            final.setdefault((Reminder.Status.SENT.value, ""), []).append(row.id)
        elif all(f",{login.user_id}," in row.delivered_to or f",?{login.user_id}," in row.delivered_to
                 for login in logins):
            final.setdefault((Reminder.Status.UNCERTAIN.value, UNCERTAIN + (error or "")), []).append(row.id)
        else:
            retry.append(row.id)
    return final, retry


def _count(outcome: SendOutcome, final: dict) -> None:
    for (status, _note), ids in final.items():
        if status == Reminder.Status.SENT:
            outcome.sent_rows += len(ids)
        elif status == Reminder.Status.SKIPPED:
            outcome.skipped_rows += len(ids)
        elif status == Reminder.Status.UNCERTAIN:
            outcome.uncertain_rows += len(ids)


def _send_household(batch: _Batch, household_id: int, rows: list[Reminder]) -> None:
    """One e-mail per login of the household, each recorded at once; then every row's final status.

    The last e-mail's UPDATE also sets the final statuses (one statement per e-mail in
    the common case). Raises ``mail.ClaimLost`` the moment the rows are no longer ours.
    """
    token, outcome = batch.lease.token, batch.outcome
    relevant = [r for r in rows if still_relevant(r, day=batch.day, certificates=batch.certificates)]
    given: dict[tuple[str, str], list[int]] = {}
    if len(relevant) < len(rows):
        given[(Reminder.Status.SKIPPED.value, SKIP_MOOT)] = [r.id for r in rows if r not in relevant]
    if not batch.wants_email.get(household_id):
        given[(Reminder.Status.SKIPPED.value, SKIP_OPTED_OUT)] = [r.id for r in relevant]
        relevant = []
    logins = batch.recipients.get(household_id, [])
    seers = {r.id: [lg for lg in logins if lg.sees_household or lg.person_id == r.person_id] for r in relevant}
    messages = []
    for login in logins:
        todo = [r for r in relevant if login in seers[r.id]
                and f",{login.user_id}," not in r.delivered_to and f",?{login.user_id}," not in r.delivered_to]
        if todo:
            messages.append((login, todo))

    failure = ""  # an SMTP error that left a login without its e-mail: retried later
    uncertain = ""
    finished = False
    for index, (login, todo) in enumerate(messages):
        ids = [r.id for r in todo]
        message_id = message_id_for(row_ids=ids, user_id=login.user_id)
        built = render_email(rows=todo, to=login.email, message_id=message_id, language=login.language, day=batch.day)
        entry, interrupted = f",{login.user_id},", None
        try:
            batch.mailer.send(built, still_mine=batch.lease.still_mine)
        except mail.MaybeDelivered as exc:
            entry, uncertain = f",?{login.user_id},", str(exc)
            logger.warning("reminder e-mail maybe delivered (no reply after the data); not retried: %s", exc)
            if isinstance(exc.__cause__, SoftTimeLimitExceeded):
                interrupted = exc.__cause__
        except (mail.ClaimLost, SoftTimeLimitExceeded):
            raise
        except Exception as exc:  # nothing delivered to this login: the others still get theirs
            failure = f"{type(exc).__name__}: {exc}"
            logger.warning("reminder e-mail for a household failed: %s", type(exc).__name__)
            continue
        for row in todo:
            row.delivered_to += entry
        final = None
        if index == len(messages) - 1 and not failure and interrupted is None:
            final, _retry = _final_statuses(relevant, seers, uncertain)
            final = {**given, **final}
        # Recorded at once: the window for a duplicate is this one UPDATE.
        _record(token=token, marked=ids, entry=entry, message_id=message_id, final=final, now=batch.now)
        if not entry.startswith(",?"):
            outcome.emails += 1
        if interrupted is not None:
            raise interrupted
        if final is not None:
            _count(outcome, final)
            finished = True
    if finished:
        return
    final, retry = _final_statuses(relevant, seers, uncertain)
    final = {**given, **final}
    _record(token=token, final=final, now=batch.now)
    _count(outcome, final)
    if retry:
        retried, failed = _record_failure(token=token, row_ids=retry, error=failure or "送信されませんでした",
                                          now=batch.now)
        outcome.failed_rows += failed
        if retried:
            outcome.retry_households.append(household_id)


def send_households(*, household_ids: list[int], now: datetime | None = None) -> SendOutcome:
    """Claim, send and record the reminders of these households: one e-mail per login.

    An insured person's login gets every person of the household due; a dependent's
    own login gets only their own. Rows no login may see, of households that opted
    out, or made moot, are ``skipped`` (the dashboard notice still shows). The claim is
    checked before each household and each e-mail: once another worker has taken it
    over, this one stops. Celery's soft time limit is never swallowed.
    """
    return _send_households(household_ids=household_ids, now=now or timezone.now())


def _send_households(*, household_ids: list[int], now: datetime) -> SendOutcome:
    outcome = SendOutcome()
    claimed_clock = time.monotonic()
    token, claimed = claim(household_ids=household_ids, now=now)
    if not claimed:
        return outcome
    rows = list(Reminder.objects.filter(claim_token=token).select_related("person__card", "person__household")
                .order_by("id"))
    by_household: dict[int, list[Reminder]] = {}
    for row in rows:
        by_household.setdefault(row.household_id, []).append(row)
    batch = _Batch(
        lease=Lease(token=token, row_ids=[r.id for r in rows], confirmed_at=claimed_clock),
        day=timezone.localdate(now), now=now,
        recipients=recipients_for(household_ids=list(by_household)),
        wants_email=dict(Household.objects.filter(id__in=by_household).values_list("id", "email_reminders")),
        certificates=valid_certificates(rows), mailer=mail.mailer(), outcome=outcome,
    )
    try:
        for household_id, household_rows in by_household.items():
            if not batch.lease.still_mine():
                raise mail.ClaimLost
            try:
                _send_household(batch, household_id, household_rows)
            except (mail.ClaimLost, SoftTimeLimitExceeded):
                raise
            except Exception as exc:  # a database or template error: this household is retried later
                logger.exception("reminders of a household could not be sent")
                retried, failed = _record_failure(token=token, row_ids=[r.id for r in household_rows],
                                                  error=f"{type(exc).__name__}: {exc}", now=now)
                outcome.failed_rows += failed
                if retried:
                    outcome.retry_households.append(household_id)
            batch.lease.release(r.id for r in household_rows)
    except mail.ClaimLost:
        outcome.claim_lost = True
        logger.warning("reminder claim taken over by another worker: stopped, %s rows released", _release(token))
    except SoftTimeLimitExceeded:
        _release(token)
        raise
    if outcome.retry_households:
        attempts = Reminder.objects.filter(
            household_id__in=outcome.retry_households, status=Reminder.Status.PENDING
        ).values_list("attempts", flat=True)
        outcome.retry_in = _backoff(min(attempts, default=1))
    return outcome


# --- Staff and member actions -------------------------------------------------------------


def retry_failed(*, reminders, request=None) -> int:
    """Staff: failed rows go back to pending with fresh attempts, and are sent now.

    Uncertain rows too (staff checked the mail server's log and found the message was
    not delivered): the logins marked "maybe" get it again, with the same Message-ID
    when the rows are the same, so a mail system or the member can recognise a copy.
    """
    uncertain = list(reminders.filter(status=Reminder.Status.UNCERTAIN))
    for row in uncertain:
        row.delivered_to = re.sub(r",\?\d+,", "", row.delivered_to)
    Reminder.objects.bulk_update(uncertain, ["delivered_to"])
    count = reminders.filter(status__in=[Reminder.Status.FAILED, Reminder.Status.UNCERTAIN]).update(
        status=Reminder.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), enqueued_at=None,
        claim_token=None,
    )
    if request is not None:
        record(action="change", request=request, summary=f"送信失敗・送信結果不明の期限のお知らせ{count}件を再送")
    transaction.on_commit(_enqueue_or_leave_to_the_sweeper)
    return count


def _enqueue_or_leave_to_the_sweeper() -> None:
    try:
        enqueue_due()
    except BrokerDown:
        pass  # logged; the rows are pending and the sweeper sends them


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
