"""R6 for one person: on which basis (if any) the society sends them a 資格確認書
without an application, and from when. Pure: dates and flags in, a basis out.

The set-based ex-officio list (``selectors.ex_officio_candidates``) answers the same
question for the whole society in SQL; this is the per-person answer the member's
dashboard words ("what comes next"). Basis names follow R6's order.
"""

from dataclasses import dataclass
from datetime import date

from eligibility import rules

CUTOFF = "cutoff"                                  # 1. enrolled on or before 2024-12-01, no card / not registered
ENROLMENT_FORM = "enrolment_form"                  # 2. asked for one on the enrolment form
LAPSED = "lapsed"                                  # 3. running out: grace from the listing day, or lapsed
MY_NUMBER_UNREGISTERED = "my_number_unregistered"  # 4. 個人番号未登録
RENEWAL = "renewal"                                # 5. holds one that ends within 2 months
BASES = (CUTOFF, ENROLMENT_FORM, LAPSED, MY_NUMBER_UNREGISTERED, RENEWAL)

RENEWAL_MONTHS = 2  # R6.5 (policy)
_NO_CARD_USE = (rules.Status.NO_CARD, rules.Status.NOT_REGISTERED, rules.Status.LAPSED)


@dataclass(frozen=True)
class PersonFacts:
    """What R6 reads of a person (the roster's flags), apart from the card."""

    eligible_from: date
    certificate_wanted: bool = False
    my_number_registered: bool = True
    needed_helper: bool = False  # once applied as 要配慮者: always renewed (R6.5)


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
) -> str | None:
    """R6: the basis on which ``person`` is on the ex-officio list on ``today``, or None.

    ``status`` is R5's (None: not eligible today, never listed — R11 included);
    ``holds_certificate_until`` the 有効期限 of the valid 資格確認書 they hold, if any;
    ``expires_on`` R5's ``e`` (needed for R6.3's listing day in grace).
    """
    if status is None:
        return None
    in_listed_grace = status == rules.Status.GRACE and lapsed_policy and expires_on is not None and (
        today >= rules.ex_officio_grace_listing_from(expires_on)
    )
    without_card_use = status in _NO_CARD_USE or in_listed_grace
    if holds_certificate_until is not None and holds_certificate_until >= today:
        ends_soon = holds_certificate_until <= rules.add_months(today, RENEWAL_MONTHS)
        return RENEWAL if ends_soon and (without_card_use or person.needed_helper) else None
    if not without_card_use:
        return None
    if person.eligible_from <= rules.EX_OFFICIO_CUTOFF and status in (
        rules.Status.NO_CARD, rules.Status.NOT_REGISTERED
    ):
        return CUTOFF
    if person.certificate_wanted:
        return ENROLMENT_FORM
    if lapsed_policy and (status == rules.Status.LAPSED or in_listed_grace):
        return LAPSED
    if not person.my_number_registered:
        return MY_NUMBER_UNREGISTERED
    return None
