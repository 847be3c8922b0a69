"""No log line, at any level, carries 記号・番号 or a My Number: the filter on every handler."""

import logging

import pytest
from django.db import IntegrityError, transaction

from core.logging import RedactIdentifiers, redact
from eligibility.models import Household

pytestmark = pytest.mark.django_db


def _all_handlers():
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    return {handler for logger in loggers for handler in logger.handlers}


def test_every_configured_handler_carries_the_filter():
    handlers = _all_handlers()
    assert handlers
    for handler in handlers:
        if type(handler).__name__ in ("LogCaptureHandler", "_LiveLoggingNullHandler", "_FileHandler") or isinstance(handler, logging.NullHandler):  # pytest's own; writes nothing
            continue
        assert any(isinstance(f, RedactIdentifiers) for f in handler.filters), handler


def _emitted(logger_name: str, emit) -> str:
    """What the configured console handler writes for ``emit(logger)``."""
    import io

    stream = io.StringIO()
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, RedactIdentifiers) for f in h.filters))
    old, handler.stream = handler.stream, stream
    try:
        emit(logging.getLogger(logger_name))
    finally:
        handler.stream = old
    return stream.getvalue()


def test_a_duplicate_household_in_an_exception_log_keeps_its_numbers_out(household):
    try:
        with transaction.atomic():
            Household.objects.create(society=household.society, symbol="1234", number="5678")
    except IntegrityError:
        text = _emitted("imports.services", lambda log: log.exception("import run %s failed", 7))
    assert "import run 7 failed" in text
    assert "IntegrityError" in text and "Key (" in text  # still useful to whoever reads it
    assert "5678" not in text and "1234" not in text


@pytest.mark.parametrize(("message", "secret"), [
    ("DETAIL:  Key (society_id, symbol, number)=(1, 1234, 0005678) already exists.", "0005678"),
    ('Failing row contains (3, 1234, 5678, null, f).', "5678"),
    ("lookup symbol=1234 number=5678", "5678"),
    ("記号：1234 番号は5678", "5678"),
    ("typed 1234.5678.9018 into the box", "9018"),
])
def test_it_redacts_what_must_not_be_logged(message, secret):
    assert secret not in redact(message)


def test_warnings_and_debug_lines_are_redacted_too():
    text = _emitted("anything", lambda log: log.warning("number=%s", "5678"))
    assert "5678" not in text and "number=" in text


def test_ordinary_lines_are_left_alone():
    assert redact("reminder scan for 2026-11-29 created 12") == "reminder scan for 2026-11-29 created 12"


def test_the_access_log_never_carries_a_query_string_or_referer():
    from pathlib import Path

    from django.conf import settings

    namespace: dict = {}
    exec((Path(settings.BASE_DIR) / "kenpo_portal" / "gunicorn.conf.py").read_text(), namespace)
    fmt = namespace["access_log_format"]
    assert "%(U)s" in fmt
    for field in ("%(r)s", "%(q)s", "%(f)s"):  # request line with query, query, referer
        assert field not in fmt


def test_only_the_my_number_is_masked_the_rest_of_the_line_stays_readable():
    # issue 24 (11): every digit of the line became '#', task ids, run times and counts with it
    line = "task 5a1c-77 for run 42: typed 1234.5678.9018, sent 1523, failed 2 in 12.5 s"
    assert redact(line) == "task 5a1c-77 for run 42: typed …, sent 1523, failed 2 in 12.5 s"


@pytest.mark.parametrize(("line", "expected"), [
    ("memo 1234\u3164 5678 9018 end 7", "memo … end 7"),
    ("名前 七〇〇一二三四五六七八九 様 (3件)", "名前 … 様 (3件)"),
    ("a １２３４５６７８９０１８ b 12", "a … b 12"),
    ("1\ufe0f23456789018 and 123456789019", "… and …"),
])
def test_a_hidden_or_kanji_number_is_masked_where_it_stands(line, expected):
    assert redact(line) == expected


def test_a_403_is_one_line_without_a_traceback(client, django_user_model):
    # issue 24 (11): every PermissionDenied was logged with its full traceback
    from django.test import Client

    user = django_user_model.objects.create_user("m", "m@example.jp", "x-Very-long-pass-1")
    browser = Client(raise_request_exception=False)
    browser.force_login(user)
    text = _emitted("django.request", lambda log: browser.get("/staff/"))
    text += _emitted("django.request", lambda log: browser.get("/admin/auth/user/"))
    assert "Traceback" not in text and "Forbidden" in text


def test_a_500_keeps_its_traceback():
    def emit(log):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.error("Internal Server Error: /x", exc_info=True, extra={"status_code": 500})

    assert "Traceback" in _emitted("django.request", emit)
