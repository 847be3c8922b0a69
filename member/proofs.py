"""What the member's pages need to know besides the card: the 資格確認書 a person holds,
an open request, and whether the society will send one without an application (R6),
as plain values (``Proof``), asked of the certificates app directly: the rows of
``household_rows`` (one query for a household, shared with the dashboard's notices).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.urls import reverse

from certificates import ex_officio
from certificates.models import EligibilityCertificate, ReissueRequest
from eligibility import rules

from . import household_rows
from .household_rows import CertificateRow, HouseholdRows


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


def expected_by(*, today: date, listed_from: date | None, valid_until: date | None = None,
                last_eligible_day: date | None = None) -> date:
    """(policy) When a certificate sent ex officio should arrive: the society prints the
    list at least monthly, so by the end of the month after the person is listed — a
    renewal before the old certificate ends, and never after the last eligible day (a
    certificate arriving past it would be void: R8, R11)."""
    start = max(today, listed_from or today)
    following = rules.add_months(date(start.year, start.month, 1), 2) - rules.DAY
    return min(d for d in (following, valid_until, last_eligible_day) if d is not None)


def _held(certificate: CertificateRow | None) -> HeldCertificate | None:
    if certificate is None:
        return None
    mailed = certificate.status == EligibilityCertificate.Status.MAILED
    return HeldCertificate(
        serial=certificate.serial, valid_until=certificate.valid_until,
        state="mailed" if mailed else "preparing",
        mailed_on=certificate.mailed_at.date() if mailed and certificate.mailed_at else None,
    )


def proofs_for(persons: Iterable, *, today: date, statuses: dict[int, str | None],
               rows: HouseholdRows | None = None) -> dict[int, Proof]:
    """``{person.pk: Proof}`` (statuses: ``{person.pk: R5 status or None}``; ``rows``: the
    persons' ``household_rows``, loaded here in one query when not given)."""
    persons = list(persons)
    if rows is None:
        rows = household_rows.load(persons, reminders=False)
    certificates: dict[int, CertificateRow] = {}
    for c in rows.certificates:  # oldest issued first: the newest valid one wins
        if c.valid_until >= today:
            certificates[c.person_id] = c
    open_requests: dict[int, household_rows.RequestRow] = {}
    helped: set[int] = set()
    for r in rows.requests:  # oldest first: the newest open one wins
        if r.status in ReissueRequest.OPEN:
            open_requests[r.person_id] = r
        else:
            helped.add(r.person_id)
    result = {}
    for person in persons:
        status = statuses.get(person.pk)
        facts = getattr(person, "card", None)  # a missing CardFacts is an AttributeError too
        expires_on = facts.effective_expires_on if facts else None
        certificate = certificates.get(person.pk)
        last_eligible_day = person.last_eligible_day()
        basis = ex_officio.basis_for(
            ex_officio.PersonFacts(eligible_from=person.eligible_from, certificate_wanted=person.certificate_wanted,
                                   my_number_registered=person.my_number_registered,
                                   needed_helper=person.pk in helped,
                                   last_eligible_day=last_eligible_day),
            status, certificate.valid_until if certificate else None, today,
            expires_on=expires_on, lapsed_policy=settings.KENPO_EX_OFFICIO_LAPSED,
            grace_months_after=settings.KENPO_EX_OFFICIO_GRACE_MONTHS_AFTER,
            renewal_months=settings.KENPO_CERTIFICATE_RENEWAL_MONTHS,
        )
        request = open_requests.get(person.pk)
        listed = (ex_officio.listed_from(status=status, expires_on=expires_on,
                                         months_after=settings.KENPO_EX_OFFICIO_GRACE_MONTHS_AFTER)
                  if settings.KENPO_EX_OFFICIO_LAPSED else None)
        result[person.pk] = Proof(
            certificate=_held(certificate), basis=basis, listed_from=listed,
            expected_by=expected_by(today=today, listed_from=listed,
                                    valid_until=certificate.valid_until if certificate else None,
                                    last_eligible_day=last_eligible_day),
            by_post=person.household.voluntary_continuation,
            open_request_id=request.pk if request else None,
            open_request_label=str(request.get_status_display()) if request else "",
            request_url=reverse("certificates:request_start", args=[person.pk]),
            open_request_url=reverse("certificates:request_detail", args=[request.pk]) if request else "",
        )
    return result
