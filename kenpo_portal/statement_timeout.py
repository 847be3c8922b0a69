"""No web request can run away: every SQL statement of a request is cancelled after
``KENPO_WEB_STATEMENT_TIMEOUT_SECONDS`` (PostgreSQL ``statement_timeout``), and the
visitor gets a page saying so (503) instead of a worker killed by gunicorn with its
query still running in the database for minutes.

Set once per database connection of a web process (connections persist across
requests); Celery workers never pass through here, so imports, exports, counts and
batches keep their own limits.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.utils import OperationalError
from django.http import HttpRequest

from .errors import render_error

logger = logging.getLogger(__name__)
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled (by the timeout)


def is_statement_timeout(exception: BaseException) -> bool:
    return isinstance(exception, OperationalError) and getattr(exception.__cause__, "pgcode", None) == QUERY_CANCELED


def limit_statements(seconds: int) -> None:
    """``SET statement_timeout`` on this thread's connection, once per connection."""
    if not seconds or connection.vendor != "postgresql":
        return
    try:
        connection.ensure_connection()
        raw = connection.connection
        # Inside a transaction (tests) a SET may be rolled back: set it every time there.
        if getattr(connection, "_kenpo_limited", None) is raw and not connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(seconds) * 1000}")
    except DatabaseError:
        # The database does not answer: pages that need it say so themselves (/healthz, the
        # error pages with the contact from the settings); nothing to limit.
        return
    connection._kenpo_limited = raw  # type: ignore[attr-defined]


class StatementTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        limit_statements(settings.KENPO_WEB_STATEMENT_TIMEOUT_SECONDS)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not is_statement_timeout(exception):
            return None
        logger.warning("a request's SQL statement ran past %s s and was cancelled: %s",
                       settings.KENPO_WEB_STATEMENT_TIMEOUT_SECONDS, request.path)
        return render_error(503, template="errors/timeout.html")
