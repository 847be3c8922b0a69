"""What the dashboard needs to know besides the card: the 資格確認書 a person holds,
an open request, and whether the society will send one without an application (R6).

Those live in the certificates app, which sits above this one: eligibility never
imports it. Instead the certificates app registers one *provider* at start-up
(``certificates.apps``) and the dashboard asks it for plain values. With no provider
registered the dashboard refuses to guess (``ImproperlyConfigured``): a typo must not
silently hide everyone's 資格確認書.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class HeldCertificate:
    """A valid 資格確認書: ``state`` is "preparing" (queued, rendered, printed) or "mailed"."""

    serial: str
    valid_until: date
    state: str
    mailed_on: date | None = None


@dataclass(frozen=True)
class Proof:
    """One person's proofs other than the card, as plain values (hashable: part of cache keys)."""

    certificate: HeldCertificate | None = None
    basis: str | None = None            # R6's basis today (certificates.ex_officio), or None
    listed_from: date | None = None     # in grace: the day R6.3 puts them on the list
    expected_by: date | None = None     # when a certificate sent ex officio should have arrived
    by_post: bool = False               # 任意継続: sent home by post, not via the employer
    open_request_id: int | None = None
    open_request_label: str = ""
    request_url: str = ""               # where to apply for this person ("" when they may not)
    open_request_url: str = ""


Provider = Callable[..., dict[int, Proof]]
_provider: Provider | None = None


def register(provider: Provider) -> None:
    """Called once by the app that knows certificates: ``provider(persons, *, today, statuses)``
    returns ``{person.pk: Proof}`` (statuses: ``{person.pk: R5 status or None}``)."""
    global _provider
    _provider = provider


def proofs_for(persons: Iterable, *, today: date, statuses: dict[int, str | None]) -> dict[int, Proof]:
    if _provider is None:
        raise ImproperlyConfigured("No proof provider registered (the certificates app registers one).")
    return _provider(list(persons), today=today, statuses=statuses)
