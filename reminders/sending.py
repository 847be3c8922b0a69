"""Sending the reminders, exactly once from database state (reminders/README.md).

* The sweeper (``enqueue_due``) marks claimable rows enqueued and publishes one
  ``send_batch`` per ``HOUSEHOLDS_PER_TASK`` households; every publish has the broker
  timeout (``KENPO_BROKER_TIMEOUT``), so a hung broker is a down one (``BrokerDown``).
* Sending claims rows with a conditional ``UPDATE … WHERE status = 'pending'``: a task
  delivered twice finds nothing left to claim. The claim is a lease, checked before each
  household and right before each message's final "."; a worker that lost it stops.
* Each e-mail is recorded (``delivered_to``, ``marks.py``) right after the SMTP server
  accepted it: written at once, committed while the next message is built and its
  MAIL/RCPT/DATA go out, and confirmed before that message's final "." (at most one
  accepted message is ever unrecorded). The mark is idempotent, so a lost database
  connection is re-opened and the mark retried (``KENPO_REMINDER_MARK_RETRY_SECONDS``).
  Only a mark that still cannot be written leaves the message ``uncertain`` (never re-sent).
* A row is ``sent`` only when every login that may see it got it; ``skipped`` when none
  may; ``uncertain`` when the server may have kept a message — never re-sent automatically.
* A row left in ``sending`` (worker killed) is claimable again after ``SENDING_TIMEOUT``.

One household is sent in three steps: ``_plan`` (who gets which rows), ``_send_planned``
(one e-mail per login, each marked at once), ``_finish`` (every row's final status).
"""

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eligibility.models import Household

from . import mail
from .marks import MarkNotRecorded, Marks, forget_connection, record
from .models import Reminder
from .selectors import recipients_for, still_relevant, valid_certificates

logger = logging.getLogger(__name__)

# The tuning values, declared in kenpo_portal/settings.py (each from the environment).
# A claim older than this is presumed dead (must exceed CELERY_TASK_TIME_LIMIT).
SENDING_TIMEOUT = timedelta(seconds=settings.KENPO_REMINDER_SENDING_TIMEOUT)
# An enqueued row not yet claimed after this long is enqueued again (message lost).
REENQUEUE_AFTER = timedelta(seconds=settings.KENPO_REMINDER_REENQUEUE_AFTER)
MAX_ATTEMPTS = settings.KENPO_REMINDER_MAX_ATTEMPTS
# Retry n waits BACKOFF_BASE * 4**(n-1): 2 min, 8 min, 32 min, ~2 h.
BACKOFF_BASE = timedelta(seconds=settings.KENPO_REMINDER_BACKOFF_BASE)
HOUSEHOLDS_PER_TASK = settings.KENPO_REMINDER_HOUSEHOLDS_PER_TASK
# A holder re-confirms (extends) its claim in the database when it last did so longer
# ago than this, measured on its own clock from before that UPDATE; until then nobody
# can have taken the rows over (that needs claimed_at older than SENDING_TIMEOUT).
LEASE_REFRESH = SENDING_TIMEOUT / 4


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

    message = _("お知らせは保存しました。メッセージブローカー（Redis）に接続できないため、いまは送信を予約できませんでした。"
                "ブローカーが戻れば、15分ごとの確認（send_pending）で自動的に送信されます。")


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
    marks: Marks = field(default_factory=Marks)

    def ready_for_the_final_dot(self) -> bool:
        """Asked right before a message's final ".": the previous message's mark has
        committed (``Marks.settle``), and the claim is still ours."""
        self.marks.settle()
        return self.lease.still_mine()


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


@dataclass
class _Plan:
    """Who gets which rows of one household, and the rows already decided (skipped)."""

    household_id: int
    relevant: list[Reminder]
    seers: dict[int, list]
    messages: list[tuple]
    given: dict[tuple[str, str], list[int]]


@dataclass
class _Sent:
    failure: str = ""  # an SMTP error that left a login without its e-mail: retried later
    uncertain: str = ""
    finished: bool = False  # the last message's mark set every row's final status


def _plan(batch: _Batch, household_id: int, rows: list[Reminder]) -> _Plan:
    """Rows made moot or of a household that opted out are skipped; each login gets the
    relevant rows it may see and has not got yet (a retry skips those it got)."""
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
    return _Plan(household_id=household_id, relevant=relevant, seers=seers, messages=messages, given=given)


def _send_planned(batch: _Batch, plan: _Plan) -> _Sent:
    """One e-mail per login, each marked at once; the last one's mark also sets the final
    statuses (one statement per e-mail in the common case)."""
    sent = _Sent()
    for index, (login, todo) in enumerate(plan.messages):
        ids = [r.id for r in todo]
        message_id = message_id_for(row_ids=ids, user_id=login.user_id)
        built = render_email(rows=todo, to=login.email, message_id=message_id, language=login.language, day=batch.day)
        entry, interrupted = f",{login.user_id},", None
        try:
            batch.mailer.send(built, still_mine=batch.ready_for_the_final_dot)
        except mail.MaybeDelivered as exc:
            entry, sent.uncertain = f",?{login.user_id},", str(exc)
            logger.warning("reminder e-mail maybe delivered (no reply after the data); not retried: %s", exc)
            if isinstance(exc.__cause__, SoftTimeLimitExceeded):
                interrupted = exc.__cause__
        except (mail.ClaimLost, SoftTimeLimitExceeded, MarkNotRecorded, DatabaseError):
            raise  # the claim, the time limit, or the previous message's mark: not this e-mail
        except Exception as exc:  # nothing delivered to this login: the others still get theirs
            sent.failure = f"{type(exc).__name__}: {exc}"
            logger.warning("reminder e-mail for a household failed: %s", type(exc).__name__)
            continue
        for row in todo:
            row.delivered_to += entry
        final = None
        if index == len(plan.messages) - 1 and not sent.failure and interrupted is None:
            final, _retry = _final_statuses(plan.relevant, plan.seers, sent.uncertain)
            final = {**plan.given, **final}
        # Written at once, without waiting: it commits while the next message goes out, whose
        # final "." waits for it (ready_for_the_final_dot). Retried on a new connection when
        # the old one died; MarkNotRecorded when the database stays away.
        batch.marks.record(unrecorded=(ids, login.user_id), token=batch.lease.token, marked=ids, entry=entry,
                           message_id=message_id, final=final, now=batch.now)
        if not entry.startswith(",?"):
            batch.outcome.emails += 1
        if interrupted is not None:
            batch.marks.settle()
            raise interrupted
        if final is not None:
            _count(batch.outcome, final)
            sent.finished = True
    return sent


def _finish(batch: _Batch, plan: _Plan, sent: _Sent) -> None:
    """Every row's final status, unless the last mark set them; rows still owed to a
    login go back to pending with a backoff (or failed after MAX_ATTEMPTS)."""
    if sent.finished:
        return
    final, retry = _final_statuses(plan.relevant, plan.seers, sent.uncertain)
    final = {**plan.given, **final}
    record(token=batch.lease.token, final=final, now=batch.now)
    _count(batch.outcome, final)
    if retry:
        retried, failed = _record_failure(token=batch.lease.token, row_ids=retry,
                                          error=sent.failure or "送信されませんでした", now=batch.now)
        batch.outcome.failed_rows += failed
        if retried:
            batch.outcome.retry_households.append(plan.household_id)


def _send_household(batch: _Batch, household_id: int, rows: list[Reminder]) -> None:
    """One e-mail per login of the household, each recorded before the next is delivered; then every row's final
    status. Raises ``mail.ClaimLost`` the moment the rows are no longer ours."""
    plan = _plan(batch, household_id, rows)
    _finish(batch, plan, _send_planned(batch, plan))


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
        # Every other statement of the batch waits for the outstanding mark first.
        with connection.execute_wrapper(batch.marks.before_query):
            for household_id, household_rows in by_household.items():
                if not batch.lease.still_mine():
                    raise mail.ClaimLost
                try:
                    _send_household(batch, household_id, household_rows)
                except (mail.ClaimLost, SoftTimeLimitExceeded, MarkNotRecorded):
                    raise
                except Exception as exc:  # a database or template error: this household is retried later
                    logger.exception("reminders of a household could not be sent")
                    if isinstance(exc, OperationalError | InterfaceError):
                        forget_connection()
                    retried, failed = _record_failure(token=token, row_ids=[r.id for r in household_rows],
                                                      error=f"{type(exc).__name__}: {exc}", now=now)
                    outcome.failed_rows += failed
                    if retried:
                        outcome.retry_households.append(household_id)
                batch.lease.release(r.id for r in household_rows)
            batch.marks.settle()
    except mail.ClaimLost:
        outcome.claim_lost = True
        logger.warning("reminder claim taken over by another worker: stopped, %s rows released", _release(token))
    except MarkNotRecorded as exc:
        _hand_over(token, exc)
        raise
    except SoftTimeLimitExceeded:
        try:
            batch.marks.settle()  # the time limit may have struck while a mark was outstanding
        except mail.ClaimLost:
            pass
        except MarkNotRecorded as exc:
            _hand_over(token, exc)
        _release(token)
        raise
    if outcome.retry_households:
        attempts = Reminder.objects.filter(
            household_id__in=outcome.retry_households, status=Reminder.Status.PENDING
        ).values_list("attempts", flat=True)
        outcome.retry_in = _backoff(min(attempts, default=1))
    return outcome


def _hand_over(token: uuid.UUID, exc: MarkNotRecorded) -> None:
    """The database stayed away: the accepted message's rows must not stay ``sending``
    (re-sent after the timeout). The broker keeps the mark until the database is back."""
    row_ids, user_id = exc.unrecorded
    logger.error("reminder e-mail accepted but not recorded (%s); rows %s left to record_uncertain", exc, row_ids)
    from .tasks import record_uncertain

    record_uncertain.delay(str(token), row_ids, user_id, str(exc))


NOT_RECORDED = "送信後、データベースに記録できませんでした："


def record_uncertain(*, token: str, row_ids: list[int], user_id: int, error: str) -> int:
    """The rows of a message the relay accepted but whose mark never reached the database:
    ``uncertain`` (maybe delivered, never re-sent automatically), unless the mark got in."""
    rows = Reminder.objects.filter(claim_token=token, id__in=row_ids, status=Reminder.Status.SENDING)
    changed = 0
    for row in rows:
        if f",{user_id}," not in row.delivered_to:
            row.delivered_to += f",?{user_id},"
        row.status, row.claim_token = Reminder.Status.UNCERTAIN, None
        row.last_error = (UNCERTAIN + NOT_RECORDED + error)[:2000]
        changed += Reminder.objects.filter(pk=row.pk, claim_token=token).update(
            delivered_to=row.delivered_to, status=row.status, claim_token=None, last_error=row.last_error)
    return changed
