"""Recording each e-mail the relay accepted (the "mark"), exactly, and without waiting for it.

* A mark is one UPDATE on the rows still claimed with the batch's token: ``delivered_to``
  gets the login (``,7,`` accepted, ``,?7,`` maybe accepted), and the household's last
  message also sets every row's final status. Idempotent, so a lost connection is
  re-opened and the mark retried for ``MARK_RETRY``; past that, ``MarkNotRecorded``.
* **Overlapped** (``Marks``): on PostgreSQL, outside a transaction, message N's mark is
  written on a connection of its own (psycopg2's asynchronous mode, no thread) and
  travels and commits while the worker builds message N+1 and speaks MAIL/RCPT/DATA.
  ``settle()`` reads its result; it is called before N+1's final "." and before any other
  statement of the batch, so at most one accepted message is ever without its mark —
  the duplicate window stays one message per worker crash (reminders/README.md).
* A mark commits without waiting for the disk flush (``MARK_WITHOUT_FLUSH``): only a
  crash of the database server itself can lose the last ~0.6 s of them.
"""

import logging
import os
import select
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg2
import psycopg2.extensions
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from . import mail
from .models import Reminder

logger = logging.getLogger(__name__)

# Marks commit without waiting for the disk flush; False trades about a third of the
# sending rate for no duplicates after a database-server crash.
MARK_WITHOUT_FLUSH = settings.KENPO_REMINDER_MARK_WITHOUT_FLUSH
# How long the mark of an accepted message is retried on new connections.
MARK_RETRY = timedelta(seconds=settings.KENPO_REMINDER_MARK_RETRY_SECONDS)


class MarkNotRecorded(Exception):
    """The database stayed unreachable for MARK_RETRY after a message was accepted.

    ``unrecorded`` is (the message's row ids, its login's user id): ``record_uncertain``.
    """

    unrecorded: tuple[list[int], int] = ([], 0)


def _ids(ids) -> str:
    return ", ".join(str(int(i)) for i in ids)


def statement(*, token: uuid.UUID, marked=(), entry: str = "", message_id: str = "",
              final: dict[tuple[str, str], list[int]] | None = None,
              now: datetime | None = None) -> tuple[str, list, set[int]]:
    """(sql, params, the rows it must match) of one mark; no rows: nothing to write.

    ``marked`` rows get ``entry`` appended to delivered_to (unless already there) and
    ``message_id``; ``final`` rows ({(status, note): ids}) get their final status and are
    released. Raw SQL because it runs once per e-mail (the ORM took longer to build it
    than the database to run it).
    """
    from django.utils import timezone

    sets: list[str] = []
    params: list = []
    touched = set(marked)
    if marked:
        ids = _ids(marked)
        sets += [f"delivered_to = CASE WHEN id IN ({ids}) AND delivered_to NOT LIKE %s THEN delivered_to || %s "
                 "ELSE delivered_to END",
                 f"message_id = CASE WHEN id IN ({ids}) THEN %s ELSE message_id END"]
        params += [f"%{entry}%", entry, message_id]
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
        return "", [], touched
    params.append(Reminder._meta.get_field("claim_token").get_db_prep_value(token, connection))
    sql = f"UPDATE {Reminder._meta.db_table} SET {', '.join(sets)} WHERE claim_token = %s AND id IN ({_ids(touched)})"  # noqa: S608
    if connection.vendor == "postgresql" and MARK_WITHOUT_FLUSH:
        # One statement string, one implicit transaction: only this commit skips the wait
        # for the disk flush (most of its time). It is visible to every worker at once and
        # survives a crash of this worker; a crash of the database server itself may lose
        # the last ~0.6 s of marks (3 × wal_writer_delay): see reminders/README.md.
        sql = "SET LOCAL synchronous_commit TO off; " + sql
    return sql, params, touched


def _checked(matched: int, *, touched: set[int], final: dict | None, again: bool) -> int:
    """``matched`` rows of ``touched``; fewer means the claim was taken over: ``ClaimLost``.

    ``again`` (a retry whose first try may have committed before its connection died)
    counts the rows that try already released as matched.
    """
    final_ids = set().union(*final.values()) if final else set()
    if matched < len(touched) and again and final_ids:
        matched += Reminder.objects.filter(id__in=final_ids, claim_token__isnull=True).exclude(
            status__in=[Reminder.Status.PENDING, Reminder.Status.SENDING]).count()
    if matched < len(touched):
        raise mail.ClaimLost
    return matched


def record(*, token: uuid.UUID, marked=(), entry: str = "", message_id: str = "",
           final: dict[tuple[str, str], list[int]] | None = None, now: datetime | None = None,
           again: bool = False) -> int:
    """One mark on Django's connection, waiting for it; returns how many rows it matched."""
    sql, params, touched = statement(token=token, marked=marked, entry=entry, message_id=message_id, final=final,
                                     now=now)
    if not touched:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        matched = cursor.rowcount
    return _checked(matched, touched=touched, final=final, again=again)


def forget_connection() -> None:
    """Drop a connection that failed: the next query opens a new one (outside a transaction)."""
    try:
        connection.close()
    except Exception:
        connection.connection = None


def mark(**kwargs) -> int:
    """``record`` that survives a lost database connection (a failover, a PgBouncer restart,
    ``pg_terminate_backend``): re-connect and retry for MARK_RETRY, then ``MarkNotRecorded``.

    Without it, the rows of a message the relay accepted stayed ``sending`` and were sent
    again after SENDING_TIMEOUT (issue 27: 10 duplicates in 11 terminated connections).
    """
    deadline = time.monotonic() + MARK_RETRY.total_seconds()
    pause = 0.05
    again = kwargs.pop("again", False)
    while True:
        try:
            return record(**kwargs, again=again)
        except (OperationalError, InterfaceError) as exc:
            forget_connection()
            if time.monotonic() + pause > deadline:
                raise MarkNotRecorded(f"{type(exc).__name__}: {exc}") from exc
            logger.warning("reminder mark failed (%s); re-connecting", type(exc).__name__)
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
            again = True


# --- Overlapped marks: a connection of their own, results read later ------------------------


def _wait(conn) -> None:
    """Until psycopg2's asynchronous connection has finished what it was doing."""
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        if state == psycopg2.extensions.POLL_READ:
            select.select([conn.fileno()], [], [])
        elif state == psycopg2.extensions.POLL_WRITE:
            select.select([], [conn.fileno()], [])


_line: tuple[tuple, object] | None = None  # (key, this process's asynchronous connection)


def _line_key() -> tuple:
    db = connection.settings_dict
    return os.getpid(), db["NAME"], db["HOST"], db["PORT"], db["USER"]


def _open_line():
    """This process's connection for marks, opened when first needed (after a fork, anew).

    None where marks cannot overlap: not PostgreSQL, or inside a transaction (another
    connection would not see the claim), or the connection cannot be opened (then every
    mark waits on Django's connection, as before).
    """
    global _line
    if connection.vendor != "postgresql" or connection.in_atomic_block or not connection.get_autocommit():
        return None
    key = _line_key()
    if _line is not None and _line[0] == key and not _line[1].closed:
        return _line[1]
    if _line is not None and _line[0] == key:
        _close_line()
    _line = None  # a parent's connection (before a fork) is left alone, never closed here
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    try:
        conn = psycopg2.connect(**params, async_=1)
        _wait(conn)
    except psycopg2.Error as exc:
        logger.warning("no connection for overlapped marks (%s): marks wait for the database", type(exc).__name__)
        return None
    _line = (key, conn)
    return conn


def _close_line() -> None:
    global _line
    if _line is not None and _line[0] == _line_key():
        try:
            _line[1].close()
        except psycopg2.Error:
            pass
    _line = None


@dataclass
class _Outstanding:
    kwargs: dict
    touched: set[int]
    cursor: object
    unrecorded: tuple[list[int], int]


class Marks:
    """The marks of one batch; at most one is outstanding (written, its result not read).

    ``record()`` settles the previous mark, then writes this one without waiting.
    ``settle()`` waits for the outstanding mark's result: ``ClaimLost`` when it matched
    fewer rows than it must, ``MarkNotRecorded`` when the database stayed away. Install
    ``before_query`` as Django's execute wrapper so every other statement of the batch
    (the lease, a household's final statuses, a release) comes after the mark.
    """

    def __init__(self):
        self.outstanding: _Outstanding | None = None
        self.line = _open_line()

    def record(self, *, unrecorded: tuple[list[int], int], **kwargs) -> None:
        self.settle()
        if self.line is None:
            self._wait_for(kwargs, unrecorded, again=False)
            return
        sql, params, touched = statement(**kwargs)
        if not touched:
            return
        try:
            cursor = self.line.cursor()
            cursor.execute(sql, params)  # written; not waited for
        except psycopg2.Error:
            self._drop_line()
            self._wait_for(kwargs, unrecorded, again=True)
            return
        self.outstanding = _Outstanding(kwargs=kwargs, touched=touched, cursor=cursor, unrecorded=unrecorded)

    def settle(self) -> None:
        pending = self.outstanding
        if pending is None:
            return
        try:
            _wait(pending.cursor.connection)
            matched = pending.cursor.rowcount
        except psycopg2.Error as exc:
            # The line died (or the mark failed): the mark is idempotent, so it is written
            # again on Django's connection, with its retries; it may have committed.
            logger.warning("overlapped reminder mark failed (%s); recorded again", type(exc).__name__)
            self.outstanding = None
            self._drop_line()
            self._wait_for(pending.kwargs, pending.unrecorded, again=True)
            return
        self.outstanding = None
        _checked(matched, touched=pending.touched, final=pending.kwargs.get("final"), again=False)

    def _drop_line(self) -> None:
        """The line failed: closed, and this batch's next marks wait on Django's connection."""
        _close_line()
        self.line = None

    def before_query(self, execute, sql, params, many, context):
        self.settle()
        return execute(sql, params, many, context)

    @staticmethod
    def _wait_for(kwargs: dict, unrecorded: tuple[list[int], int], *, again: bool) -> None:
        try:
            mark(**kwargs, again=again)
        except MarkNotRecorded as exc:
            exc.unrecorded = unrecorded
            raise
