"""Loading parsed rows into a staging table, and the few SQL helpers the set-based
checks and writes share.

On PostgreSQL rows go in by ``COPY … FROM STDIN`` in chunks (flat memory whatever
the file's size); on SQLite (the embedded default) by ``bulk_create``. Everything
after the load is the same SQL on both, except where ``vendor()`` says otherwise.
"""

from collections.abc import Iterable
from datetime import date

from django.db import connection

CHUNK = 20_000


def vendor() -> str:
    return connection.vendor


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


class Stager:
    """Collects parsed rows and writes them in chunks.

    ``values(row)`` gives a row's values in ``fields`` order; ``line(row)``, when given,
    its COPY text line directly (faster for rows with nothing to escape).
    """

    def __init__(self, model, fields: tuple[str, ...], *, values, line=None):
        self.model = model
        self.fields = fields
        self.values = values
        self.line = line or (lambda row: "\t".join(map(_copy_text, values(row))) + "\n")
        self.rows: list = []
        self.written = 0
        self._columns = ", ".join(model._meta.get_field(name).column for name in fields)
        self._copy = vendor() == "postgresql"
        self._format = self.line if self._copy else self.values
        self._small_from = float("inf")
        self._loader = None
        self._last_line = 0  # of the last row added: the loader's batches end at a chunk's last line

    def _copy_chunk(self, conn, text: str) -> None:
        import io

        with conn.cursor() as cursor:
            # One read of the whole chunk (psycopg2 reads the file in pieces of ``size``, 8 KB
            # by default, each under the GIL, which the parsing thread holds most of the time).
            cursor.copy_expert(f"COPY {self.model._meta.db_table} ({self._columns}) FROM STDIN", io.StringIO(text),
                               len(text) + 1)

    def in_background(self, *, then=None) -> "Stager":
        """Load the chunks from a thread with a connection of its own (PostgreSQL), so that the
        database stores one chunk while Python parses the next (2 cores: about the COPY's time
        saved). Each chunk commits on its own, as the rows of a check do anyway. Call ``close()``.

        ``then(conn, last_line, rows)``, when given, is called by that thread on its connection
        after each batch it loads: ``rows`` rows, the lines after the previous batch's last up to
        ``last_line`` (the chunks queued while it ran make the next batch, so that it never holds
        the parsing back). The registration check classifies them there (issue 26). The rows of
        the last CHUNK (``expect``) are not handed over: they are loaded while the last rows are
        parsed, and the caller deals with them at once when the file is read, rather than wait
        for a batch still running, then for one more."""
        if self._copy:
            self._loader = _Loader(self, then=then)
        return self

    def close(self) -> None:
        self.flush()
        if self._loader is not None:
            self._loader.finish()
            self._loader = None

    def expect(self, rows: int) -> None:
        """The file's number of rows, when known: the last chunks are made smaller, so that
        little is left to load once the last row is parsed."""
        self._small_from = rows - CHUNK

    def add(self, row) -> None:
        rows = self.rows
        rows.append(self._format(row))
        self._last_line = row.line
        if len(rows) >= CHUNK or (len(rows) >= CHUNK // 5 and self.written >= self._small_from):
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self._copy:
            if self._loader is not None:
                self._loader.put("".join(self.rows), self._last_line, len(self.rows),
                                 then=self.written + len(self.rows) <= self._small_from)
            else:
                self._copy_chunk(connection, "".join(self.rows))
        else:
            self.model.objects.bulk_create(
                (self.model(**dict(zip(self.fields, row, strict=True))) for row in self.rows), batch_size=2000
            )
        self.written += len(self.rows)
        self.rows = []


class _Loader:
    """A thread that COPYs the chunks it is given, on its own connection, and hands each batch
    of them to ``then`` (see ``Stager.in_background``).

    While it runs, the interpreter switches threads every millisecond instead of every 5: psycopg2
    sends a chunk in pieces and takes the GIL back after each, and with the default interval each
    piece waited for the parsing thread to be made to yield (measured: a 20,000-row COPY took
    150–580 ms while rows were parsed and 50–80 ms otherwise; with 1 ms, 65–80 ms throughout)."""

    SWITCH_INTERVAL = 0.001
    # Chunks waiting to be loaded (20,000 rows each): the parsing thread waits when there are
    # more, which a ``then`` slower than the parsing would otherwise make unbounded.
    QUEUED = 8

    def __init__(self, stager: Stager, *, then=None):
        import queue
        import sys
        import threading

        self.stager = stager
        self.then = then
        self.interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self.interval, self.SWITCH_INTERVAL))
        self.chunks: queue.Queue = queue.Queue(maxsize=self.QUEUED if then else 3)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="imports-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import queue

        from django.db import connections

        conn = connections.create_connection("default")
        try:
            conn.ensure_connection()  # while the first rows are being parsed
            finished = False
            while not finished:
                batch = [self.chunks.get()]
                while batch[-1] is not None:  # and those queued meanwhile
                    try:
                        batch.append(self.chunks.get_nowait())
                    except queue.Empty:
                        break
                if batch[-1] is None:
                    finished = True
                    batch.pop()
                if not batch or self.error is not None:
                    continue
                try:
                    for text, _last_line, _rows, _then in batch:
                        self.stager._copy_chunk(conn, text)
                    # Chunks handed to ``then`` come first (all but the file's last CHUNK rows).
                    handed = [(last_line, rows) for _text, last_line, rows, then in batch if then]
                    if self.then is not None and handed:
                        self.then(conn, handed[-1][0], sum(rows for _last, rows in handed))
                except BaseException as exc:  # handed to the parsing thread
                    self.error = exc
        finally:
            conn.close()

    def put(self, text: str, last_line: int, rows: int, *, then: bool = True) -> None:
        if self.error is not None:
            self.finish()
        self.chunks.put((text, last_line, rows, then))

    def finish(self) -> None:
        import sys

        self.chunks.put(None)
        self.thread.join()
        sys.setswitchinterval(self.interval)
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def execute(sql: str, params: Iterable = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def fetch(sql: str, params: Iterable = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def local_date(column: str) -> str:
    """SQL for the Japanese calendar date of a stored timestamp (UTC in the database).

    Japan has no daylight saving time, so +9 hours is exact."""
    if vendor() == "postgresql":
        return f"(({column}) AT TIME ZONE 'Asia/Tokyo')::date"
    return f"date({column}, '+9 hours')"


def as_date(value) -> date | None:
    """A date read back from SQL (SQLite returns ISO text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_bool(value) -> bool | None:
    return None if value is None else bool(value)


class Param:
    """A value passed as a query parameter in ``insert_select``."""

    def __init__(self, value):
        self.value = value


def insert_select(model, given: dict[str, object]) -> tuple[str, str, list]:
    """The column list and SELECT list of an ``INSERT … SELECT`` into ``model``'s table.

    ``given`` maps a column (attname) to an SQL expression or a ``Param``; every other
    column gets the model field's default (or NULL), so a field added later with a
    default needs no change here.
    """
    columns, exprs, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key and f.attname not in given:
            continue  # an auto id
        value = given.get(f.attname)
        if value is None and f.attname not in given:
            if f.null and f.get_default() is None:  # no default, or a default of None
                value = "NULL"
            elif f.get_default() is not None:  # a default, or "" for a text field
                value = Param(f.get_default())
            else:
                raise ValueError(f"{model.__name__}.{f.attname} needs a value")
        columns.append(connection.ops.quote_name(f.column))
        if isinstance(value, Param):
            exprs.append("%s")
            params.append(value.value)
        else:
            exprs.append(str(value))
    return ", ".join(columns), ", ".join(exprs), params


# A run larger than this joins the whole tables by hash (the staged rows have no fresh
# statistics right after COPY, and an ANALYZE costs more than it saves).
LARGE = 5_000


def join_whole_tables(cursor, *, parallel: bool = False) -> None:
    """For the rest of the transaction, join by hash (and, with ``parallel``, with the other
    cores: a query that only reads). PostgreSQL only; call it inside a transaction."""
    if vendor() != "postgresql":
        return
    cursor.execute("SET LOCAL enable_nestloop = off")
    cursor.execute("SET LOCAL work_mem = '128MB'")
    if parallel:
        # The planner, without statistics on the rows just staged, thinks them too few for workers.
        cursor.execute("SET LOCAL parallel_setup_cost = 0")
        cursor.execute("SET LOCAL parallel_tuple_cost = 0")


def join_by_index(cursor) -> None:
    """For the rest of the transaction, join by index (undoing ``join_whole_tables``): for a query
    of a few staged rows, which the planner, without their statistics, may take for thousands."""
    if vendor() != "postgresql":
        return
    for setting in ("work_mem", "parallel_setup_cost", "parallel_tuple_cost"):
        cursor.execute(f"SET LOCAL {setting} TO DEFAULT")
    cursor.execute("SET LOCAL enable_nestloop = on")
    cursor.execute("SET LOCAL enable_hashjoin = off")
    cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")


def create_temp(name: str, select_sql: str, params: Iterable = (), *, large: bool = False) -> None:
    """A temporary table from a query: the classification of a run's rows, made once and
    read by every later statement (no WAL, no index, gone with the session). Call it
    inside a transaction."""
    with connection.cursor() as cursor:
        if large:
            join_whole_tables(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TEMPORARY TABLE {name} AS {select_sql}", list(params))


def drop_temp(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")

