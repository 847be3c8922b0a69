"""Reminder e-mails: built once per language and stage, sent over one SMTP connection per worker.

* ``build()`` makes the raw message. The body of each combination of (languages, items)
  is rendered once per process (``_bodies``, an LRU cache) with placeholders where the
  names go; only the names, the address, the Message-ID and the date change between
  two members. The MIME is written directly (two base64 parts), not with
  ``email.message``, which cost more than the SMTP exchange itself.
* ``Mailer`` keeps one Django e-mail backend per worker process; for SMTP it keeps its
  connection open across tasks and speaks MAIL/RCPT/DATA itself, so it knows *where* a
  failure happened:

  - before the message's final "." was written: nothing was delivered (``raise`` as is);
  - after it (no reply, a timeout, a reset): the server may have kept the message
    (``MaybeDelivered``) — never retried automatically (reminders/README.md);
  - ``still_mine()`` is asked right before the message is written; when the claim was
    taken over, the connection is dropped mid-DATA (the server discards the message)
    and ``ClaimLost`` is raised.

Any other Django backend (console, locmem, file) gets the same bytes through
``send_messages``; there every failure counts as "nothing delivered".
"""

import base64
import html
import os
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.template.loader import render_to_string

from core.email import subject as subject_line
from core.wareki import format_member_date
from eligibility import rules

from . import stages

SUBJECT = {"ja": "マイナ保険証・資格確認書の期限のお知らせ", "en": "Expiry reminder for your My Number insurance card"}
BOUNDARY = "=_kenpo_reminder_="  # never in base64 text, whose lines never start with "--"
BILINGUAL = ("ja", "en")  # a login whose language is unknown: Japanese, then English


class ClaimLost(Exception):
    """The rows were taken over by another worker: nothing was sent, stop now."""


class MaybeDelivered(Exception):
    """The connection failed after the message's final ".": the server may have kept it."""


@dataclass(frozen=True)
class Item:
    """One person's paragraph: its wording (cached per process) and its expiry (substituted)."""

    stage: str
    subject: str
    expiring: str  # "ecert" (電子証明書) or "card" (マイナンバーカード); "" for a 資格確認書
    notice_mailed: bool  # J-LIS's expiry notice has surely been mailed already (R3)
    ex_officio_lapsed: bool
    expires_on: date = field(compare=False)
    # The end of eligibility when the member is told it (rules.end_worth_telling): its cause
    # (rules.EndCause, "" when none), and whether the 資格確認書 already runs to its last day
    # (then no renewal is promised: R6.5, R8).
    end_cause: str = ""
    certificate_to_the_end: bool = False
    last_day: date | None = field(default=None, compare=False)

    @property
    def wording(self) -> tuple:
        return (self.stage, self.subject, self.expiring, self.notice_mailed, self.ex_officio_lapsed,
                self.end_cause, self.certificate_to_the_end)


def item_for(row, *, day: date) -> Item:
    """The paragraph of one reminder row (its person's card and household loaded) as sent on ``day``."""
    card = getattr(row.person, "card", None) if row.subject == stages.Subject.MY_NUMBER else None
    expiring = ""
    if card is not None:
        expiring = stages.what_expires(ecert_expires_on=card.ecert_expires_on, card_expires_on=card.card_expires_on)
    end = row.person.eligibility_end()
    told = rules.end_worth_telling(end, today=day, years=getattr(settings, "KENPO_CERTIFICATE_VALID_YEARS", 5))
    return Item(
        stage=row.stage, subject=row.subject, expires_on=row.expires_on, expiring=expiring,
        notice_mailed=stages.jlis_notice_surely_mailed(row.expires_on, day),
        ex_officio_lapsed=getattr(settings, "KENPO_EX_OFFICIO_LAPSED", True),
        end_cause=end.cause.value if told else "",
        certificate_to_the_end=told and row.subject == stages.Subject.CERTIFICATE and row.expires_on >= end.last_day,
        last_day=end.last_day if told else None,
    )


def languages_for(language: str | None) -> tuple[str, ...]:
    return (language,) if language in BILINGUAL else BILINGUAL


# Where a person's name and dates go in a cached body: @@<index>:<field>@@.
_PLACEHOLDER = re.compile(r"@@(\d+):(\w+)@@")
DATES = ("expires_on", "renewal_opens", "grace_ends", "certificate_valid_until", "last_day", "first_day_without")


@lru_cache(maxsize=4096)
def _bodies(languages: tuple[str, ...], wordings: tuple[tuple, ...], site_url: str) -> tuple[str, str]:
    """The plain-text and HTML bodies for these paragraphs, with placeholders for names and dates.

    Keyed on the wording only (stage, what expires, …), so a whole day's e-mails share
    a handful of renders whatever the names and expiry dates.
    """
    items = []
    for index, (stage, subject, expiring, notice_mailed, ex_officio_lapsed, end_cause, certificate_to_the_end) in \
            enumerate(wordings):
        item = {"name": f"@@{index}:name@@", "stage": stage, "subject": subject, "expiring": expiring,
                "notice_mailed": notice_mailed, "ex_officio_lapsed": ex_officio_lapsed, "end_cause": end_cause,
                "certificate_to_the_end": certificate_to_the_end}
        item.update({f"{name}_{lang}": f"@@{index}:{name}_{lang}@@" for name in DATES for lang in BILINGUAL})
        items.append(item)
    context = {"languages": languages, "items": items, "site_url": site_url}
    return (render_to_string("email/reminders/reminder.txt", context),
            render_to_string("email/reminders/reminder.html", context))


@lru_cache(maxsize=4096)
def _date(day: date, language: str) -> str:
    return format_member_date(day, language)


def _values(name: str, item: Item) -> dict[str, str]:
    # With no end told, its two dates are never in the wording: the expiry stands in for them.
    last_day = item.last_day or item.expires_on
    dates = {**stages.key_dates(item.expires_on), "certificate_valid_until": item.expires_on,
             "last_day": last_day, "first_day_without": last_day + stages.DAY}
    return {"name": name, **{f"{key}_{lang}": _date(dates[key], lang) for key in DATES for lang in BILINGUAL}}


@lru_cache(maxsize=8)
def _subject_header(languages: tuple[str, ...]) -> str:
    text = " / ".join(subject_line(SUBJECT[language], language=language) for language in languages)
    return Header(text, "utf-8", maxlinelen=76, header_name="Subject").encode(linesep="\r\n")


@lru_cache(maxsize=8)
def _from_header(from_email: str) -> tuple[str, str]:
    """(the From header, the envelope sender) of DEFAULT_FROM_EMAIL."""
    name, address = parseaddr(from_email)
    return formataddr((name, address), charset="utf-8") if name else address, sanitize_address(address, "utf-8")


def _address(address: str) -> str:
    """A plain ASCII address as is (Django's sanitize_address costs ~0.5 ms; allauth
    validated the address); anything else (IDN, a display name) through it."""
    if address.isascii() and "<" not in address and not any(c in address for c in "\r\n\t ,"):
        return address
    return sanitize_address(address, "utf-8")


def _base64(text: str) -> str:
    return base64.encodebytes(text.encode()).decode("ascii").replace("\n", "\r\n")


@dataclass(frozen=True)
class Built:
    to: str  # the To header
    envelope_to: str  # the bare address for RCPT
    from_address: str
    raw: bytes  # the whole message, CRLF line ends
    text: str
    html: str
    subject: str


def build(*, names: list[str], items: list[Item], languages: tuple[str, ...], to: str, message_id: str) -> Built:
    """One login's message: every listed person (name + item, in this order), in ``languages``.

    Names and dates only: never 記号・番号, branch numbers or any database id (R9).
    """
    text, markup = _bodies(languages, tuple(item.wording for item in items), settings.SITE_URL.rstrip("/"))
    values = [_values(name, item) for name, item in zip(names, items, strict=True)]
    text = _PLACEHOLDER.sub(lambda m: values[int(m[1])][m[2]], text)
    markup = _PLACEHOLDER.sub(lambda m: html.escape(values[int(m[1])][m[2]]), markup)
    from_header, from_address = _from_header(settings.DEFAULT_FROM_EMAIL)
    to_address = _address(to)
    subject = _subject_header(languages)
    raw = (
        f"From: {from_header}\r\nTo: {to_address}\r\nSubject: {subject}\r\n"
        f"Date: {formatdate(localtime=True)}\r\nMessage-ID: {message_id}\r\n"
        f"MIME-Version: 1.0\r\nContent-Language: {', '.join(languages)}\r\n"
        f'Content-Type: multipart/alternative; boundary="{BOUNDARY}"\r\n\r\n'
        f'--{BOUNDARY}\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        f"{_base64(text)}"
        f'--{BOUNDARY}\r\nContent-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        f"{_base64(markup)}"
        f"--{BOUNDARY}--\r\n"
    ).encode("ascii")
    envelope_to = to_address if to_address is to else sanitize_address(parseaddr(to)[1], "utf-8")
    return Built(to=to_address, envelope_to=envelope_to, from_address=from_address, raw=raw, text=text, html=markup,
                 subject=" / ".join(subject_line(SUBJECT[language], language=language) for language in languages))


class _Prebuilt:
    """What Django's non-SMTP backends call on ``message()``: the bytes already built."""

    def __init__(self, raw: bytes):
        self.raw = raw

    def as_bytes(self, *args, **kwargs) -> bytes:
        return self.raw

    def as_string(self, *args, **kwargs) -> str:
        return self.raw.decode("ascii")

    def get_charset(self):
        return None


class PrebuiltEmail(EmailMessage):
    def __init__(self, built: Built):
        super().__init__(subject=built.subject, body=built.text, from_email=built.from_address, to=[built.to])
        self.alternatives = [(built.html, "text/html")]
        self._raw = built.raw

    def message(self, *args, **kwargs):
        return _Prebuilt(self._raw)


_DOT = re.compile(rb"(?m)^\.")


class Mailer:
    """One per worker process (``mailer()``): Django's backend, its SMTP connection kept open."""

    def __init__(self):
        self.backend = get_connection()
        self.key = _backend_key()

    def close(self) -> None:
        try:
            self.backend.close()
        except Exception:  # noqa: S110 - closing a broken connection
            pass

    def send(self, built: Built, *, still_mine: Callable[[], bool]) -> None:
        if not isinstance(self.backend, SmtpBackend):
            if not still_mine():
                raise ClaimLost
            self.backend.send_messages([PrebuiltEmail(built)])
            return
        self._send_smtp(built, still_mine)

    def _mail_from(self, built: Built) -> tuple[int, bytes]:
        connection = self.backend.connection
        connection.ehlo_or_helo_if_needed()
        # smtplib's mail()/rcpt() parse the address again on every call (~0.1 ms); ours
        # are plain ASCII addresses already (``_address``).
        connection.putcmd("mail", f"FROM:<{built.from_address}>")
        return connection.getreply()

    def _send_smtp(self, built: Built, still_mine: Callable[[], bool]) -> None:
        reused = self.backend.connection is not None
        if not reused:
            self.backend.open()
        try:
            code, reply = self._mail_from(built)
        except OSError:  # SMTPServerDisconnected is one
            if not reused:
                raise
            # An idle pooled connection the server closed: once more, on a fresh one.
            self.close()
            self.backend.open()
            code, reply = self._mail_from(built)
        connection = self.backend.connection
        try:
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, built.from_address)
            connection.putcmd("rcpt", f"TO:<{built.envelope_to}>")
            code, reply = connection.getreply()
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({built.envelope_to: (code, reply)})
            connection.putcmd("data")
            code, reply = connection.getreply()
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            try:
                connection.rset()  # refused before the data: the connection stays usable
            except Exception:
                self.close()
            raise
        except BaseException:
            self.close()
            raise
        try:
            mine = still_mine()
        except BaseException:
            self.close()  # mid-DATA, without the final ".": the server discards the message
            raise
        if not mine:
            self.close()
            raise ClaimLost
        try:
            connection.send(_DOT.sub(b"..", built.raw) + b".\r\n")
        except BaseException:
            self.close()  # the final "." never left: nothing delivered
            raise
        try:
            code, reply = connection.getreply()
        except Exception as exc:
            self.close()
            raise MaybeDelivered(f"{type(exc).__name__}: {exc}") from exc
        if code != 250:  # refused after the data: not delivered
            raise smtplib.SMTPDataError(code, reply)


def _backend_key() -> tuple:
    return (os.getpid(), settings.EMAIL_BACKEND, getattr(settings, "EMAIL_HOST", ""),
            getattr(settings, "EMAIL_PORT", ""), getattr(settings, "EMAIL_HOST_USER", ""),
            getattr(settings, "EMAIL_USE_TLS", False), getattr(settings, "EMAIL_USE_SSL", False),
            getattr(settings, "EMAIL_TIMEOUT", None))


_mailer: Mailer | None = None


def mailer() -> Mailer:
    """This process's mailer; a new one after a fork or a change of e-mail settings."""
    global _mailer
    if _mailer is None or _mailer.key != _backend_key():
        if _mailer is not None and _mailer.key[0] == os.getpid():
            _mailer.close()
        _mailer = Mailer()
    return _mailer
