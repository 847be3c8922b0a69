"""A real SMTP server on 127.0.0.1 (aiosmtpd) that a test can make refuse connections."""

import asyncio
import email
import logging
import socket
import threading
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller

# aiosmtpd logs every connection at INFO from its own thread, which can outlive a test's
# captured output ("--- Logging error --- I/O operation on closed file" in CI's log).
logging.getLogger("mail.log").setLevel(logging.WARNING)


class Sink:
    """Keeps every accepted message.

    ``mail_delay`` stalls the reply to MAIL (to kill or freeze a sender there);
    ``data_delay`` keeps the message, then stalls the reply after its final "." — as a
    slow relay that times the sender out yet delivers. ``after_data`` (a callable) runs
    once the message is kept, before the reply: e.g. the sender's database connection
    is terminated there, so its mark of the accepted message meets a dead connection.
    """

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.mail_delay = 0.0
        self.data_delay = 0.0
        self.after_data = None
        self.mail_started = threading.Event()
        self._lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_started.set()
        if self.mail_delay:
            await asyncio.sleep(self.mail_delay)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        if self.after_data is not None:
            self.after_data()
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return "250 Message accepted for delivery"


def _port_socket(port: int = 0) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", port))
    return s


class _OnSocket(Controller):
    """aiosmtpd's controller serving on a socket we bound, not on a port it binds."""

    def __init__(self, handler, sock: socket.socket):
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1])
        self.sock = sock

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self.sock)


class SmtpServer:
    """The port stays ours from start to end: a bound socket that never listens holds
    it (a connection to it is refused), and the server listens on a second socket bound
    to the same port (SO_REUSEPORT) while it accepts. Closing a picked port and binding
    it again later could meet another process on it."""

    def __init__(self):
        self._reserved = _port_socket()
        self.port = self._reserved.getsockname()[1]
        self.sink = Sink()
        self.controller: Controller | None = None

    @property
    def messages(self):
        return self.sink.messages

    def accept(self):
        if self.controller is None:
            listening = _port_socket(self.port)
            listening.listen()
            self.controller = _OnSocket(self.sink, listening)
            self.controller.start()

    def refuse(self):
        """Stop listening: connections are refused until ``accept()``."""
        if self.controller is not None:
            self.controller.stop()  # closes the listening socket
            self.controller = None

    def close(self):
        self.refuse()
        self._reserved.close()

    def wait_for(self, count: int, timeout: float = 30.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]


@pytest.fixture
def smtp(settings):
    server = SmtpServer()
    server.accept()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.close()


@pytest.fixture
def staff_client(client, db):
    from staff.testing import login_with_mfa, make_staff

    login_with_mfa(client, make_staff(role="担当者", email="tanto@example.jp"))
    return client


@pytest.fixture(autouse=True)
def _eager_celery(eager_tasks):
    """Tasks run in-process unless a test asks for the real broker (celery_broker)."""


@pytest.fixture(autouse=True)
def _close_the_mark_line():
    """A test that sent outside a transaction leaves this process's mark connection open:
    closed, so that nothing holds the test database when it is dropped."""
    yield
    from reminders import marks

    marks._close_line()
