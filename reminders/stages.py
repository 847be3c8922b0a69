"""When each reminder stage is due: pure functions over ``eligibility.rules``.

No ORM, no settings. Every date comes from ``rules`` (R3, R4, R8); this module
only says which rule date opens each stage and until when the stage still
matters. A stage is *current* on a day from its own date until the day before
the next stage's date; the daily scan creates the row of the current stage only,
so a person whose dates were learned late, or a scan missed for days, gets the
latest stage that still matters and never a backlog (issue 5, item 1).
"""

from datetime import date, timedelta
from enum import StrEnum

from eligibility import rules


class Subject(StrEnum):
    """What expires: the マイナ保険証 (earlier of e-certificate and card) or a 資格確認書."""

    MY_NUMBER = "my_number"
    CERTIFICATE = "certificate"


class Stage(StrEnum):
    RENEWAL_OPEN = "renewal_open"
    EXPIRED = "expired"
    GRACE_ENDING = "grace_ending"
    LAPSED = "lapsed"
    CERTIFICATE_ENDING = "certificate_ending"


MY_NUMBER_STAGES = (Stage.RENEWAL_OPEN, Stage.EXPIRED, Stage.GRACE_ENDING, Stage.LAPSED)

# (policy) The "registration cancelled" notice still matters for this many months
# after the grace period ended; a lapse learned later than that gets no e-mail
# (the dashboard shows the status anyway, and R6.3 issues a 資格確認書).
LAPSED_NOTICE_MONTHS = 12
# A 資格確認書 reminder goes out this many months before its valid-until date.
CERTIFICATE_NOTICE_MONTHS = 2
DAY = timedelta(days=1)


def stage_date(stage: Stage, expiry: date) -> date:
    """The day ``stage`` is due for an expiry (the effective expiry, or a 資格確認書's 有効期限)."""
    if stage == Stage.RENEWAL_OPEN:
        return rules.renewal_opens(expiry)  # R3
    if stage == Stage.EXPIRED:
        return expiry + DAY  # 〜まで is inclusive: expired the day after
    if stage == Stage.GRACE_ENDING:
        return rules.add_months(rules.grace_ends(expiry), -1)  # R4, one month before its end
    if stage == Stage.LAPSED:
        return rules.grace_ends(expiry) + DAY
    if stage == Stage.CERTIFICATE_ENDING:
        return rules.add_months(expiry, -CERTIFICATE_NOTICE_MONTHS)
    raise ValueError(stage)


def stage_current_until(stage: Stage, expiry: date) -> date:
    """The last day on which ``stage`` is still the latest stage that matters."""
    if stage == Stage.RENEWAL_OPEN:
        return expiry
    if stage == Stage.EXPIRED:
        return stage_date(Stage.GRACE_ENDING, expiry) - DAY
    if stage == Stage.GRACE_ENDING:
        return rules.grace_ends(expiry)
    if stage == Stage.LAPSED:
        return rules.add_months(rules.grace_ends(expiry), LAPSED_NOTICE_MONTHS)
    if stage == Stage.CERTIFICATE_ENDING:
        return expiry
    raise ValueError(stage)


def current_stage(expiry: date, day: date, *, subject: Subject = Subject.MY_NUMBER) -> Stage | None:
    """The one stage that matters on ``day`` for ``expiry``, or None (too early or too late)."""
    stages = MY_NUMBER_STAGES if subject == Subject.MY_NUMBER else (Stage.CERTIFICATE_ENDING,)
    for stage in stages:
        if stage_date(stage, expiry) <= day <= stage_current_until(stage, expiry):
            return stage
    return None


def expiry_range(stage: Stage, day: date) -> tuple[date, date] | None:
    """The expiries (inclusive range) for which ``stage`` is current on ``day``.

    The inverse of ``current_stage``, so the scan can select with one indexed
    ``BETWEEN`` per stage. Both ends of a stage's window only move forward as the
    expiry does, so the set is one contiguous range; it is found by trying each
    expiry near ``day`` with the rules themselves, never by inverting them by hand.
    """
    subject = Subject.CERTIFICATE if stage == Stage.CERTIFICATE_ENDING else Subject.MY_NUMBER
    # Every stage window lies within 24 months of the expiry (lapsed: grace + 12 months).
    span = 31 * (LAPSED_NOTICE_MONTHS + 6)
    matches = [
        expiry
        for offset in range(-span, span + 1)
        if current_stage(expiry := day + timedelta(days=offset), day, subject=subject) == stage
    ]
    return (matches[0], matches[-1]) if matches else None


def key_dates(expiry: date) -> dict[str, date]:
    """The dates a reminder message quotes, by name (for templates)."""
    return {
        "expires_on": expiry,
        "renewal_opens": rules.renewal_opens(expiry),
        "grace_ends": rules.grace_ends(expiry),
    }


def what_expires(*, ecert_expires_on: date | None, card_expires_on: date | None) -> str:
    """Which thing ends on the effective expiry: ``"ecert"`` (電子証明書, renewable on the
    card) when it ends strictly before the card, else ``"card"`` (マイナンバーカード itself,
    which takes the certificate with it). An unknown certificate date means the card's."""
    if ecert_expires_on is not None and (card_expires_on is None or ecert_expires_on < card_expires_on):
        return "ecert"
    return "card"


# (policy, R3) J-LIS mails the expiry notice (有効期限通知書) about 2–3 months before the
# expiry: from 2 months before, it has surely been mailed.
JLIS_NOTICE_SURELY_MAILED_MONTHS = 2


def jlis_notice_surely_mailed(expiry: date, day: date) -> bool:
    """True from 2 months before ``expiry``: say "was mailed", never "will be mailed"."""
    return day >= rules.add_months(expiry, -JLIS_NOTICE_SURELY_MAILED_MONTHS)

