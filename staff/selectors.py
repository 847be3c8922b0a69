"""Reads for the staff dashboard: society-wide numbers, each in one set-based query.

Numbers only, no words: the labels are chosen per request in the reader's language
(``staff.figures``), so a cached summary serves every language.
"""

from datetime import date, datetime

from django.db.models import Case, Count, DateField, Q, When
from django.db.models.functions import TruncMonth

from certificates.models import BatchItem, EligibilityCertificate, ReissueRequest
from certificates.selectors import ex_officio_counts
from eligibility.models import Person
from eligibility.rules import Status, add_months
from eligibility.selectors import eligible_on, with_status
from reminders.models import Reminder

MONTHS = 24


def _expiry_month(column: str, start: date, end: date) -> Case:
    """The first day of the month ``card.<column>`` falls in, when it is in [start, end) on a card."""
    in_range = Q(card__has_card=True, **{f"card__{column}__gte": start, f"card__{column}__lt": end})
    return Case(When(in_range, then=TruncMonth(f"card__{column}")), default=None, output_field=DateField())


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def society_counts(*, day: date, months: int = MONTHS) -> tuple[dict[str, int], list[tuple[date, int, int]]]:
    """Persons eligible on ``day`` by R5 status, and their e-certificate (電子証明書) and
    card expiries per month from this one as ``(month, ecert, card)``: ONE grouped
    query over persons and card facts.

    Grouping by (status, e-certificate month, card month) gives at most a few
    thousand groups whatever the size of the society, and the join of persons with
    their card facts, the costly part, is done once for all the figures.
    """
    start = day.replace(day=1)
    end = add_months(start, months)
    statuses = {s.value: 0 for s in Status}
    by_month = {add_months(start, i): [0, 0] for i in range(months)}
    rows = (
        with_status(Person.objects.filter(eligible_on(day)), day=day)
        .annotate(ecert_month=_expiry_month("ecert_expires_on", start, end),
                  card_month=_expiry_month("card_expires_on", start, end))
        .values_list("status", "ecert_month", "card_month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for status, ecert_month, card_month, n in rows:
        statuses[status] += n
        if ecert_month is not None:
            by_month[_as_date(ecert_month)][0] += n
        if card_month is not None:
            by_month[_as_date(card_month)][1] += n
    return statuses, [(month, ecert, card) for month, (ecert, card) in by_month.items()]


# The work queues: (key, model, filter). ``staff.figures`` words and links each key.
WORK_QUEUES = (
    ("requests_submitted", ReissueRequest, {"status": ReissueRequest.Status.SUBMITTED}),
    # Approved or issued, not yet in a rendered print file (the day's file is made at 16:00).
    ("certificates_queued", EligibilityCertificate, {"status": EligibilityCertificate.Status.QUEUED}),
    ("certificates_rendered", EligibilityCertificate, {"status": EligibilityCertificate.Status.RENDERED}),
    ("certificates_printed", EligibilityCertificate, {"status": EligibilityCertificate.Status.PRINTED}),
    ("reminders_failed", Reminder, {"status": Reminder.Status.FAILED}),
    ("batch_items_failed", BatchItem, {"state": BatchItem.State.FAILED}),
)


def work_counts() -> dict[str, int]:
    """How many items wait in each work queue: one COUNT each."""
    return {key: model.objects.filter(**filters).count() for key, model, filters in WORK_QUEUES}


__all__ = ["MONTHS", "WORK_QUEUES", "ex_officio_counts", "society_counts", "work_counts"]
