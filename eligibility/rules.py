"""The date rules of RULES.md, as plain functions: dates in, dates out.

No ORM, no settings. Everything else in the portal calls these; nothing
re-derives a date. The names and keyword arguments are a contract (RULES.md, "The
code contract"): tests outside the project call them.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

# R1: applications received before this day use 20 as the adult age, not 18.
ADULT_AGE_CHANGED_ON = date(2022, 4, 1)
# FLYER §7 ①: eligible on or before this day → 資格確認書 without application.
EX_OFFICIO_CUTOFF = date(2024, 12, 1)
# FLYER §1: the health insurance card stopped working the day after this one.
INSURANCE_CARD_ABOLISHED_ON = date(2025, 12, 2)
# R11: eligibility in the society ends on the day a person turns this age (後期高齢者医療).
LATE_ELDERLY_AGE = 75
# 高齢受給者: from 70 to 74 a person's co-payment ratio is printed (R8, R10).
ELDERLY_AGE = 70
DAY = timedelta(days=1)


class Status(StrEnum):
    """R5: the one status a member's dashboard shows for a person."""

    NO_CARD = "no_card"
    NOT_REGISTERED = "not_registered"
    ACTIVE = "active"
    RENEW_NOW = "renew_now"
    GRACE = "grace"
    LAPSED = "lapsed"
    # Nobody has said yet (no statement, no row in any registration-status file): never
    # shown as ``no_card`` — a missing record is not a fact.
    UNKNOWN = "unknown"


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def birthday_in(birth_date: date, year: int) -> date:
    """The birthday in ``year``, for expiry dates: Feb 29 → Feb 28 in common years (policy)."""
    day = min(birth_date.day, _last_day(year, birth_date.month))
    return date(year, birth_date.month, day)


def age_on(birth_date: date, day: date) -> int:
    """Age on ``day``, attained on the birthday itself (年齢計算ニ関スル法律).

    A Feb 29 person turns a year older on Mar 1 in common years (policy).
    """
    age = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        age -= 1
    return age


def nth_birthday_after(birth_date: date, after: date, n: int) -> date:
    """The ``n``-th birthday strictly after ``after`` (n >= 1)."""
    first_year = after.year if birthday_in(birth_date, after.year) > after else after.year + 1
    return birthday_in(birth_date, first_year + n - 1)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months``; a day that does not exist becomes the month's last."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, _last_day(year, month)))


def card_expiry(birth_date: date, issued_on: date, *, applied_on: date | None = None) -> date:
    """R1: the My Number card's expiry from its issue date (発行日)."""
    adult_age = 20 if (applied_on or issued_on) < ADULT_AGE_CHANGED_ON else 18
    years = 10 if age_on(birth_date, issued_on) >= adult_age else 5
    return nth_birthday_after(birth_date, issued_on, years)


def ecert_expiry(
    birth_date: date,
    issued_on: date,
    *,
    card_expires_on: date,
    previous_expiry: date | None = None,
) -> date:
    """R2: the e-certificate's (電子証明書) expiry, never after the card's.

    Renewed inside the window before ``previous_expiry`` → the 6th birthday after
    the renewal; otherwise the 5th birthday after issue.
    """
    renewed_in_window = previous_expiry is not None and (
        renewal_opens(previous_expiry) <= issued_on <= previous_expiry
    )
    expiry = nth_birthday_after(birth_date, issued_on, 6 if renewed_in_window else 5)
    return min(expiry, card_expires_on)


def ecert_candidates(card_expires_on: date, *, birth_date: date) -> tuple[date, date]:
    """R2: from a printed card expiry alone, the two possible e-certificate expiries.

    The first certificate of a card issued to an adult ends on the birthday 5 years
    before the card (Feb 29 in a leap year for a Feb 29 person, whose card ends on
    Feb 28); every renewal, and a minor's card, ends with the card.
    """
    return birthday_in(birth_date, card_expires_on.year - 5), card_expires_on


def card_issued_to_a_minor(card_expires_on: date, *, birth_date: date) -> bool:
    """R1 read backwards: a card that expires before its holder turns 26 was issued to a
    minor (a 5-year card: at most 17 — or 19 before April 2022 — plus 5), so its
    e-certificate ends with the card (R2); a 10-year card expires at 28 at the earliest."""
    return age_on(birth_date, card_expires_on) < 26


def renewal_opens(expiry: date) -> date:
    """R3: renewal is possible once less than 3 months remain.

    The day *after* the date 3 months before expiry; a date that does not exist in
    its month is clamped to the month's last day first (May 31 → Feb 28 → opens Mar 1;
    Aug 17 → opens May 18). One day late is harmless, one day early is turned away.
    """
    return add_months(expiry, -3) + DAY


def grace_ends(expiry: date) -> date:
    """R4: the last day of the 3rd month after the month of expiry."""
    end_month = add_months(date(expiry.year, expiry.month, 1), 3)
    return date(end_month.year, end_month.month, _last_day(end_month.year, end_month.month))


def effective_expiry(*, ecert_expires_on: date | None, card_expires_on: date | None) -> date | None:
    """R5's ``e``: whichever of the e-certificate and the card expires first."""
    known = [d for d in (ecert_expires_on, card_expires_on) if d is not None]
    return min(known) if known else None


def insurance_status(
    *,
    has_card: bool | None,
    registered: bool,
    ecert_expires_on: date | None,
    card_expires_on: date | None,
    today: date,
) -> Status:
    """R5: exactly one status for a person on ``today``.

    ``has_card=None`` (nobody has said) gives ``unknown``. With no expiry known at all,
    a registered card counts as ``active`` (the dashboard then asks the member for the
    printed expiry).
    """
    if has_card is None:
        return Status.UNKNOWN
    if not has_card:
        return Status.NO_CARD
    if not registered:
        return Status.NOT_REGISTERED
    expiry = effective_expiry(ecert_expires_on=ecert_expires_on, card_expires_on=card_expires_on)
    if expiry is None or today < renewal_opens(expiry):
        return Status.ACTIVE
    if today <= expiry:
        return Status.RENEW_NOW
    if today <= grace_ends(expiry):
        return Status.GRACE
    return Status.LAPSED


def anniversary(day: date, years: int) -> date:
    """The ``years``-th anniversary of ``day``, counted as age is: Feb 29 → Mar 1 in common years."""
    year = day.year + years
    if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1)
    return date(year, day.month, day.day)


def turns_75_on(birth_date: date) -> date:
    """R11: the day eligibility ends (the 75th birthday; Feb 29 → Mar 1 in a common year)."""
    return anniversary(birth_date, LATE_ELDERLY_AGE)


class EndCause(StrEnum):
    """Why a person's eligibility in the society ends (資格喪失の理由, as far as the portal knows)."""

    LATE_ELDERLY = "late_elderly"  # the 75th birthday (R11): 後期高齢者医療 from that day
    VOLUNTARY_CONTINUATION = "voluntary_continuation"  # 任意継続's last day (2 years at the most)
    LOSS = "loss"  # a known 資格喪失日 (leaving the employer, no longer a dependent …)


# When two ends fall on the same day, the one that says what comes next wins: at 75 it
# is 後期高齢者医療 whatever else the roster says.
_END_PRECEDENCE = (EndCause.LATE_ELDERLY, EndCause.VOLUNTARY_CONTINUATION, EndCause.LOSS)


@dataclass(frozen=True)
class EligibilityEnd:
    """The end of a person's eligibility: ``last_day`` is the last day with it (inclusive),
    ``first_day_without`` the day after (資格喪失日)."""

    last_day: date
    cause: EndCause

    @property
    def first_day_without(self) -> date:
        return self.last_day + DAY


def eligibility_end(
    *, birth_date: date, eligible_until: date | None = None, voluntary_continuation_ends_on: date | None = None
) -> EligibilityEnd:
    """The end of eligibility known today: the earliest of the day before the 75th birthday
    (R11; Feb 29 → the day before Mar 1 in a common year), 任意継続's last day (inclusive)
    and the day before a known 資格喪失日 (``eligible_until``, the first day without).

    There is always one (everyone turns 75); on a tie the cause that decides what comes
    next wins (75 before 任意継続 before a plain 資格喪失日).
    """
    ends = [(turns_75_on(birth_date) - DAY, EndCause.LATE_ELDERLY)]
    if voluntary_continuation_ends_on is not None:
        ends.append((voluntary_continuation_ends_on, EndCause.VOLUNTARY_CONTINUATION))
    if eligible_until is not None:
        ends.append((eligible_until - DAY, EndCause.LOSS))
    last_day, cause = min(ends, key=lambda end: (end[0], _END_PRECEDENCE.index(end[1])))
    return EligibilityEnd(last_day=last_day, cause=cause)


def end_worth_telling(end: EligibilityEnd, *, today: date, years: int = 5) -> bool:
    """Whether the member is told about ``end`` on ``today``: it has come, or a 資格確認書
    issued today would run to it (R8: ``years`` of validity, capped at the last eligible
    day), so no certificate of the society reaches past it. A 40-year-old's 75th
    birthday is not news; a 71-year-old's is."""
    return end.last_day <= anniversary(today, years) - DAY


def copay_effective_from(birth_date: date) -> date:
    """高齢受給者の一部負担金割合の適用開始日 (R8, R10): the 1st of the month after the 70th
    birthday's month, or that month itself for a person born on the 1st."""
    seventieth = birthday_in(birth_date, birth_date.year + ELDERLY_AGE)
    first = date(seventieth.year, seventieth.month, 1)
    return first if birth_date.day == 1 else add_months(first, 1)


def certificate_valid_until(
    *, issued_on: date, birth_date: date, years: int = 5, eligible_until: date | None = None
) -> date:
    """R8: a 資格確認書's 有効期限 (inclusive).

    The day before the ``years``-th anniversary of issue (issued Feb 29 → Feb 28),
    never past the day before the holder turns 75 (R11), never past ``eligible_until``
    — the last eligible day when it is known (e.g. the end of 任意継続), inclusive.
    """
    candidates = [anniversary(issued_on, years) - DAY, turns_75_on(birth_date) - DAY]
    if eligible_until is not None:
        candidates.append(eligible_until)
    return min(candidates)


def ex_officio_grace_listing_from(expiry: date, *, months_after: int = 2) -> date:
    """R6 basis 3 (policy, a setting): a person in grace is on the ex-officio list from
    the 1st day of the ``months_after``-th month after the month of expiry, so the
    資格確認書 arrives before the registration is cancelled (expiry 2026-11-14 →
    2027-01-01, while grace ends 2027-02-28)."""
    return add_months(date(expiry.year, expiry.month, 1), months_after)


class ExOfficioBasis(StrEnum):
    """R6: why a person is on the ex-officio list (職権交付の対象者), in R6's order: the one
    spelling of the bases (``certificates.models.Basis`` stores these values, with words)."""

    CUTOFF = "cutoff"  # 1. eligible on or before 2024-12-01, no card or not registered
    ENROLMENT_FORM = "enrolment_form"  # 2. enrolled later, the form asked for one
    LAPSED = "lapsed"  # 3. the マイナ保険証 is running out (grace from the listing day) or lapsed
    NO_MY_NUMBER = "no_my_number"  # 4. 個人番号未登録
    RENEWAL = "renewal"  # 5. the 資格確認書 itself ends soon (or ended) and is renewed


def ex_officio_renewal_horizon(today: date, *, months: int = 2) -> date:
    """R6 basis 5 (policy, a setting): a 資格確認書 ending on or before this day (``months``
    from ``today``, month-end clamped like every "months later") is renewed ex officio."""
    return add_months(today, months)


def ex_officio_basis(
    *,
    today: date,
    eligible_from: date,
    last_eligible_day: date,
    status: Status,
    expiry: date | None,
    certificate_wanted: bool,
    my_number_registered: bool,
    certificate_valid_until: date | None,
    needs_helper: bool,
    grace_months_after: int = 2,
    renewal_months: int = 2,
    lapsing_listed: bool = True,
) -> ExOfficioBasis | None:
    """R6: the basis on which a person is on the ex-officio list on ``today``, or None.

    - ``last_eligible_day``: inclusive (``Person.last_eligible_day``: the day before
      資格喪失日 or the 75th birthday, or 任意継続's end) — R11: nobody aged 75+;
    - ``status`` (R5) and ``expiry`` (the effective expiry R5 used, for basis 3);
    - ``certificate_valid_until``: the 有効期限 of the person's certificate that is not
      void (there is at most one), even if already past; None when there is none;
    - ``needs_helper``: an application for the reason 介助者などの支援が必要 (要配慮者)
      was once accepted — basis 5 then applies whatever the card status.

    A usable マイナ保険証 is missing when there is no card or no registration, when it
    lapsed, when it is in grace from the listing day of basis 3, or when the society
    has not registered the person's My Number (then the card cannot confirm
    eligibility with this society, whatever its status). Bases 1–4 need no valid
    certificate (valid = not void and 有効期限 on or after today); basis 5 is the
    holder's: the certificate ends within the horizon (or has ended) and a new one
    would run longer — not when it already runs to the last eligible day, so a
    renewal never repeats an identical certificate.
    """
    if not eligible_from <= today <= last_eligible_day:
        return None
    grace_listed = (
        status == Status.GRACE
        and expiry is not None
        and ex_officio_grace_listing_from(expiry, months_after=grace_months_after) <= today
    )
    lapsing = status == Status.LAPSED or grace_listed
    without_card = status in (Status.NO_CARD, Status.NOT_REGISTERED)
    # R5: nobody has said whether an ``unknown`` person has a usable マイナ保険証, so bases 2
    # and 5 (the member asked for one; the one they hold ends) still send it; bases 1
    # and 3 need a known status and never apply.
    no_usable_card = without_card or lapsing or status == Status.UNKNOWN or not my_number_registered
    if certificate_valid_until is None or certificate_valid_until < today:
        if eligible_from <= EX_OFFICIO_CUTOFF and without_card:
            return ExOfficioBasis.CUTOFF
        if eligible_from > EX_OFFICIO_CUTOFF and certificate_wanted and no_usable_card:
            return ExOfficioBasis.ENROLMENT_FORM
        if lapsing_listed and lapsing:
            return ExOfficioBasis.LAPSED
        if not my_number_registered:
            return ExOfficioBasis.NO_MY_NUMBER
    renewal_due = (
        certificate_valid_until is not None
        and certificate_valid_until <= ex_officio_renewal_horizon(today, months=renewal_months)
        and certificate_valid_until < last_eligible_day
    )
    if renewal_due and (no_usable_card or needs_helper):
        return ExOfficioBasis.RENEWAL
    return None
