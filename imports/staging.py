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
    """Collects rows (tuples in ``fields`` order) and writes them in chunks."""

    def __init__(self, model, fields: tuple[str, ...], *, on_flush=None):
        self.model = model
        self.fields = fields
        self.rows: list[tuple] = []
        self.written = 0
        self.on_flush = on_flush
        self._columns = ", ".join(model._meta.get_field(name).column for name in fields)

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if vendor() == "postgresql":
            import io

            buffer = io.StringIO()
            buffer.writelines("\t".join(map(_copy_text, row)) + "\n" for row in self.rows)
            buffer.seek(0)
            with connection.cursor() as cursor:
                cursor.copy_expert(f"COPY {self.model._meta.db_table} ({self._columns}) FROM STDIN", buffer)
        else:
            self.model.objects.bulk_create(
                (self.model(**dict(zip(self.fields, row, strict=True))) for row in self.rows), batch_size=2000
            )
        self.written += len(self.rows)
        self.rows = []
        if self.on_flush is not None:
            self.on_flush(self.written)


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
            if f.null and not f.has_default():
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
