"""Admin list counts that are exact, or say plainly that they are not yet.

A number a clerk sees on a list (「N 件」, the select-all banner, 「全 N 件を選択」) is
one they act on, so it is never a planner's guess presented as a count:

- a count that is quick (most lists, every indexed filter) is taken in the request,
  exactly, under a short statement timeout (``KENPO_LIST_COUNT_IN_REQUEST_MS``);
- a count that is not (the ex-officio list over a whole society) is taken by a job
  (``core.tasks.count_list``) and kept per query — its SQL and parameters — for
  ``KENPO_LIST_COUNT_KEEP_SECONDS``; the list then says when it was counted
  (「90,700 件（14:02 時点）」) and a job recounts a kept count older than
  ``KENPO_LIST_COUNT_FRESH_SECONDS``;
- until that job has answered, the list says it is counting and shows no number (the
  planner's estimate, 1,224 for 29,227 rows in bench/staff_month.py, only sizes the page
  links), and offers no number to select.

``Counted`` says which of the three a list shows; the admin templates
(``templates/admin/pagination.html``, ``actions.html``, ``search_form.html``) word it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import DatabaseError, connections, transaction
from django.utils import timezone
from django.utils.functional import cached_property

logger = logging.getLogger(__name__)

# While a count is unknown the list stays paginated (more than the admin's "show all"
# limit of 200): an estimate of 41 for 9,508 rows once rendered all of them on one page.
UNKNOWN_COUNT_AT_LEAST = 201
KEY_PREFIX = "list-count:v1:"


@dataclass(frozen=True)
class Counted:
    """How many rows a list holds, and how sure we are.

    ``exact``: counted (now, or at ``counted_at`` by a job); otherwise ``value`` is the
    planner's estimate and a job is counting."""

    value: int
    exact: bool
    counted_at: datetime | None = None

    @property
    def estimate(self) -> bool:
        return not self.exact


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


def count_sql(queryset) -> tuple[str, tuple]:
    """``SELECT COUNT(*)`` of exactly the rows ``queryset`` lists (its distinct ids)."""
    inner = queryset.order_by().values("pk")
    sql, params = inner.query.sql_with_params()
    return f"SELECT COUNT(*) FROM ({sql}) AS listed", tuple(params)  # noqa: S608 — the ORM's own SQL


def count_key(using: str, sql: str, params: tuple) -> str:
    digest = hashlib.sha256(repr((using, sql, params)).encode()).hexdigest()
    return KEY_PREFIX + digest


class _Counted(Exception):
    def __init__(self, value: int):
        super().__init__(value)
        self.value = value


def count_within(using: str, sql: str, params: tuple, *, timeout_ms: int) -> int | None:
    """Run the count under ``statement_timeout``; None when it takes longer (or fails)."""
    if connections[using].vendor != "postgresql":  # the embedded SQLite: small, counted as is
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.fetchone()[0])
    try:
        with transaction.atomic(using=using):
            with connections[using].cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
                cursor.execute(sql, params)
                value = int(cursor.fetchone()[0])
            # Rolling the savepoint back also undoes SET LOCAL inside an outer transaction.
            raise _Counted(value)
    except _Counted as counted:
        return counted.value
    except DatabaseError:
        return None


def kept_count(key: str) -> Counted | None:
    kept = cache.get(key)
    if not isinstance(kept, dict):
        return None
    return Counted(value=kept["n"], exact=True, counted_at=kept["at"])


def count_by_job(key: str) -> int | None:
    """The job's side (``core.tasks.count_list``): count the query kept under ``key``
    and keep the result. Unknown or expired key: nothing to do (None)."""
    job = cache.get(key + ":sql")
    cache.delete(key + ":counting")
    if not isinstance(job, dict):
        return None
    value = count_within(job["using"], job["sql"], tuple(job["params"]),
                         timeout_ms=settings.KENPO_LIST_COUNT_JOB_TIMEOUT_SECONDS * 1000)
    if value is None:
        logger.warning("a list count did not finish within the job's limit")
        return None
    cache.set(key, {"n": value, "at": timezone.now()}, settings.KENPO_LIST_COUNT_KEEP_SECONDS)
    return value


def request_count(key: str, using: str, sql: str, params: tuple[Any, ...]) -> None:
    """Have a worker count this query, once however many pages ask."""
    keep = settings.KENPO_LIST_COUNT_KEEP_SECONDS
    cache.set(key + ":sql", {"using": using, "sql": sql, "params": list(params)}, keep)
    if not cache.add(key + ":counting", True, settings.KENPO_LIST_COUNT_JOB_TIMEOUT_SECONDS):
        return
    from .tasks import count_list

    try:
        count_list.apply_async((key,), retry=False)
    except Exception:  # the broker is down: the list stays 「約」 and asks again next time
        cache.delete(key + ":counting")
        logger.warning("could not enqueue a list count", exc_info=True)


def count_of(queryset) -> Counted:
    """How many rows ``queryset`` lists: exact now, exact as kept, or an estimate while a job counts."""
    using = queryset.db
    sql, params = count_sql(queryset)
    key = count_key(using, sql, params)
    kept = kept_count(key)
    if kept is not None:
        assert kept.counted_at is not None
        age = (timezone.now() - kept.counted_at).total_seconds()
        if age > settings.KENPO_LIST_COUNT_FRESH_SECONDS:
            request_count(key, using, sql, params)
        return kept
    in_request_ms = settings.KENPO_LIST_COUNT_IN_REQUEST_MS  # 0: always by a job
    value = count_within(using, sql, params, timeout_ms=in_request_ms) if in_request_ms > 0 else None
    if value is not None:
        return Counted(value=value, exact=True)
    request_count(key, using, sql, params)
    kept = kept_count(key)  # an eager job (the embedded default, tests) has counted already
    if kept is not None:
        return kept
    estimate = query_estimate(queryset) or 0
    return Counted(value=max(estimate, UNKNOWN_COUNT_AT_LEAST), exact=False)


class CountedPaginator(Paginator):
    """The admin's paginator with ``count_of``'s count: ``counted`` tells the templates
    whether the number is exact (and as of when) or an estimate."""

    @cached_property
    def counted(self) -> Counted:
        qs = self.object_list
        if not hasattr(qs, "query"):
            return Counted(value=len(qs), exact=True)
        return count_of(qs)

    @cached_property
    def count(self) -> int:
        return self.counted.value


# --- Deep pages by keyset ------------------------------------------------------------------

KEYSET_VAR = "after"  # ?after=<id>: the rows after this one, in the list's order
# Pages 1..OFFSET_PAGES are numbered (OFFSET: cheap that near the top); past them a list in
# id order goes on by keyset (「次の100件」), which costs the same on page 5 or 5,000.
OFFSET_PAGES = 10
_BY_ID = {("-pk",): "lt", ("-id",): "lt", ("pk",): "gt", ("id",): "gt"}


class KeysetChangeList(ChangeList):
    """The admin's ChangeList with deep pages by keyset when the list is in id order
    (the admin's default ``-pk``): ``?after=<id>`` lists the next page after that row
    with ``WHERE id < after ORDER BY id DESC LIMIT n`` instead of ``OFFSET``. Sorted by
    a column, a list keeps the admin's numbered pages (its statements bounded by the
    web timeout)."""

    keyset_after: int | None = None
    keyset_next_url: str | None = None
    keyset_links: list[tuple[int, str, bool]] = []
    # Set by ChangeList (untyped there).
    result_list: Any
    result_count: int
    multi_page: bool
    page_num: int
    paginator: Any

    def __init__(self, request, *args, **kwargs):
        try:
            after = int(request.GET.get(KEYSET_VAR, ""))
        except ValueError:
            after = None
        self.keyset_after = after if after is not None and after > 0 else None
        super().__init__(request, *args, **kwargs)

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(KEYSET_VAR, None)
        return lookup_params

    def get_query_string(self, new_params=None, remove=None):
        # A filter, a sort or a page number starts from the top again.
        new_params = dict(new_params or {})
        if KEYSET_VAR not in new_params:
            remove = [*(remove or []), KEYSET_VAR]
        return super().get_query_string(new_params, remove)

    def get_results(self, request):
        # The admin may repeat the model admin's ordering ("-pk", "-pk"): the same order.
        direction = _BY_ID.get(tuple(dict.fromkeys(self.queryset.query.order_by)))
        if direction is None:
            self.keyset_after = None
            super().get_results(request)
            return
        if self.keyset_after is None:
            super().get_results(request)
            rows = list(self.result_list)
            has_more = self.multi_page and self.page_num < self.paginator.num_pages
        else:
            self.page_num = 0  # no page number: a page somewhere past the numbered ones
            self.paginator = self.model_admin.get_paginator(request, self.queryset, self.list_per_page)
            self.result_count = self.paginator.count
            self.full_result_count = None
            self.show_full_result_count = False
            self.show_admin_actions = True
            self.can_show_all = False
            self.multi_page = True
            after = self.queryset.filter(**{f"pk__{direction}": self.keyset_after})
            rows = list(after[: self.list_per_page + 1])
            has_more = len(rows) > self.list_per_page
            rows = rows[: self.list_per_page]
            self.result_list = rows
        numbered = range(1, min(self.paginator.num_pages, OFFSET_PAGES) + 1) if self.multi_page else range(0)
        self.keyset_links = [(i, self.get_query_string({PAGE_VAR: i}), i == self.page_num) for i in numbered]
        if has_more and rows:
            self.keyset_next_url = self.get_query_string({KEYSET_VAR: rows[-1].pk}, remove=[PAGE_VAR])
