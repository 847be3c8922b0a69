"""Admin pagination that never runs a full ``COUNT(*)`` on a big table.

PostgreSQL counts by reading every row (MVCC), which takes seconds at a million
persons. The changelist only needs a page count to draw its links, so:

- an unfiltered list uses the planner's row estimate (``pg_class.reltuples``);
- a filtered or searched list counts exactly, but gives up after
  ``COUNT_TIMEOUT_MS`` and uses the planner's estimate of that query instead.

Small tables (estimate under ``EXACT_BELOW``) are always counted exactly. Use with
``show_full_result_count = False`` so the admin does not count the whole table a
second time for "N results (M total)".
"""

import json

from django.core.paginator import Paginator
from django.db import DatabaseError, connections, transaction
from django.utils.functional import cached_property

COUNT_TIMEOUT_MS = 200
EXACT_BELOW = 20_000
# When a filtered count times out, the planner's estimate can be far too low (41 for
# 9,508 rows): the admin would then think one page holds everything and render every
# row. An unknown count is taken as at least this many: more than the admin's "show
# all" limit (200), so the list stays paginated (pages past the real end are empty).
UNKNOWN_COUNT_AT_LEAST = 201


def table_estimate(model, using: str = "default") -> int | None:
    """The planner's row estimate of ``model``'s table, or None when unknown."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    # -1 means "never analysed": no estimate.
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


def query_estimate(queryset) -> int | None:
    """The planner's row estimate for ``queryset`` (EXPLAIN, not executed)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _is_filtered(queryset) -> bool:
    return bool(queryset.query.where)


class _Counted(Exception):
    def __init__(self, value: int):
        super().__init__(value)
        self.value = value


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not hasattr(qs, "query") or connections[qs.db].vendor != "postgresql":
            return super().count
        estimate = table_estimate(qs.model, qs.db)
        if estimate is None or estimate < EXACT_BELOW:
            return super().count
        if not _is_filtered(qs):
            return estimate
        try:
            with transaction.atomic(using=qs.db):
                with connections[qs.db].cursor() as cursor:
                    cursor.execute(f"SET LOCAL statement_timeout = {int(COUNT_TIMEOUT_MS)}")
                # Rolling the savepoint back also undoes SET LOCAL inside an outer transaction.
                raise _Counted(qs.count())
        except _Counted as counted:
            return counted.value
        except DatabaseError:
            return max(query_estimate(qs) or 0, UNKNOWN_COUNT_AT_LEAST)
