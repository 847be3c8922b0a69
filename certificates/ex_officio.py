"""R6 for one person: on which basis (if any) the society sends them a 資格確認書
without an application, and from when. Pure: dates and flags in, a basis out.

The rule itself is ``eligibility.rules.ex_officio_basis`` (one place); the set-based
ex-officio list (``selectors.ex_officio_candidates``) is its SQL mirror, and this is
the per-person form the member's dashboard words ("what comes next"). The bases are
``rules.ExOfficioBasis`` (their values are stored on certificates: ``models.Basis``).
"""

from dataclasses import dataclass
from datetime import date

from eligibility import rules

RENEWAL_MONTHS = 2  # R6.5 (policy; the setting KENPO_CERTIFICATE_RENEWAL_MONTHS)


@dataclass(frozen=True)
class PersonFacts:
    """What R6 reads of a person (the roster's flags), apart from the card."""

    eligible_from: date
    certificate_wanted: bool = False
    my_number_registered: bool = True
    needed_helper: bool = False  # once applied as 要配慮者: always renewed (R6.5)
    # The last eligible day when known (Person.last_eligible_day): a certificate already
    # running to it is not renewed. None: not known here (no cap).
    last_eligible_day: date | None = None


def listed_from(*, status: str | None, expires_on: date | None, months_after: int = 2) -> date | None:
    """The first day a person in grace is on the list for running out (R6.3); None otherwise."""
    if status == rules.Status.GRACE and expires_on is not None:
        return rules.ex_officio_grace_listing_from(expires_on, months_after=months_after)
    return None


def basis_for(
    person: PersonFacts,
    status: str | None,
    holds_certificate_until: date | None,
    today: date,
    *,
    expires_on: date | None = None,
    lapsed_policy: bool = True,
    grace_months_after: int = 2,
    renewal_months: int = RENEWAL_MONTHS,
) -> str | None:
    """R6: the basis on which ``person`` is on the ex-officio list on ``today``, or None.

    ``status`` is R5's (None: not eligible today, never listed — R11 included);
    ``holds_certificate_until`` the 有効期限 of the 資格確認書 they hold, if any;
    ``expires_on`` R5's ``e`` (needed for R6.3's listing day in grace).
    """
    if status is None:
        return None
    basis = rules.ex_officio_basis(
        today=today,
        eligible_from=person.eligible_from,
        last_eligible_day=person.last_eligible_day or date.max,
        status=rules.Status(status),
        expiry=expires_on,
        certificate_wanted=person.certificate_wanted,
        my_number_registered=person.my_number_registered,
        certificate_valid_until=holds_certificate_until,
        needs_helper=person.needed_helper,
        grace_months_after=grace_months_after,
        renewal_months=renewal_months,
        lapsing_listed=lapsed_policy,
    )
    return basis.value if basis else None
