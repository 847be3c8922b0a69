"""The logging net: no log line, at any level, carries 記号・番号 or a My Number (R9).

Attached as a filter to every handler (settings.LOGGING). Code never logs those on
purpose; this catches what arrives by accident, mostly inside exceptions:
PostgreSQL's ``DETAIL: Key (society_id, symbol, number)=(1, 1234, 5678) already
exists.`` and ``Failing row contains (…)``, a ``symbol=…``/``番号: …`` pair in a
message, a My Number anywhere. The message is formatted once, redacted, and kept
without its arguments; a traceback is formatted, redacted and kept as text only
(``exc_info`` dropped), so no later handler can format the original again.
"""

import logging
import re
import traceback

from .mynumber import contains_my_number, my_number_spans

MASK = "…"
_KEY_VALUES = re.compile(r"(Key \([^)]*\)=)\((?:[^()]|\([^()]*\))*\)")
_FAILING_ROW = re.compile(r"(Failing row contains )\(.*\)")
_NAMED = re.compile(r"((?:symbol|number|記号|番号)[\"']?\s*(?:=|:|：|は)\s*[\"']?)[0-9０-９]+", re.IGNORECASE)
_DIGIT = re.compile(r"[0-9０-９]")


def redact_my_numbers(text: str) -> str:
    """``text`` with each My Number (R9) replaced by ``…``; the rest of the line — task ids,
    run times, counts — stays readable."""
    if not contains_my_number(text):
        return text
    spans = my_number_spans(text)
    if not spans:  # cannot happen; if it did, lose the line's digits rather than keep a number
        return _DIGIT.sub("#", text)
    masked = [False] * len(text)
    for start, end in spans:
        masked[start:end] = [True] * (end - start)
    out, index = [], 0
    while index < len(text):
        if masked[index]:
            while index < len(text) and masked[index]:
                index += 1
            out.append(MASK)
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def redact(text: str) -> str:
    text = _KEY_VALUES.sub(rf"\1({MASK})", text)
    text = _FAILING_ROW.sub(rf"\1({MASK})", text)
    text = _NAMED.sub(rf"\1{MASK}", text)
    return "\n".join(redact_my_numbers(line) for line in text.split("\n"))


class RedactIdentifiers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class NoTracebackForClientErrors(logging.Filter):
    """A refused request (403, 400, 404 …) is one line, not a traceback: Django logs every
    ``PermissionDenied`` with its exception, and the outside test's 403s filled the log
    (issue 24, 11). Server errors (5xx) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info, record.exc_text = None, None
        return True
