"""Reads of certificates and requests: the ex-officio list (R6), the review queue,
and what the member dashboard shows. Set-based: one query however many people."""

from collections.abc import Mapping
from datetime import date, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear

from eligibility import rules
from eligibility.models import Person
from eligibility.selectors import eligible_on, search_term_matches, search_terms, with_status

from .models import Basis, BatchItem, EligibilityCertificate, IssueBatch, Reason, ReissueRequest

S = rules.Status
# The R6 bases in R6's order (every list, count and filter by basis uses this order).
EX_OFFICIO_BASES = tuple(Basis(b.value) for b in rules.ExOfficioBasis)
# An accepted application for this reason makes a person 要配慮者 for every renewal (R6.5).
HELPER_REASON = Reason.NEEDS_HELPER
ACCEPTED_REQUEST_STATUSES = (ReissueRequest.Status.APPROVED, ReissueRequest.Status.ISSUED)


def valid_certificates(*, today: date) -> QuerySet[EligibilityCertificate]:
    """Certificates in force on ``today``: not void and not past their 有効期限."""
    return EligibilityCertificate.objects.exclude(status=EligibilityCertificate.Status.VOID).filter(
        valid_until__gte=today
    )


def ex_officio_settings() -> dict:
    """The R6 policies (settings) as ``rules.ex_officio_basis`` takes them."""
    return {
        "grace_months_after": settings.KENPO_EX_OFFICIO_GRACE_MONTHS_AFTER,
        "renewal_months": settings.KENPO_CERTIFICATE_RENEWAL_MONTHS,
        "lapsing_listed": settings.KENPO_EX_OFFICIO_LAPSED,
    }


def renewal_horizon(*, today: date) -> date:
    """R6 basis 5: certificates ending on or before this day are renewed ex officio."""
    return rules.ex_officio_renewal_horizon(today, months=settings.KENPO_CERTIFICATE_RENEWAL_MONTHS)


def _ymd(expression) -> ExpressionWrapper:
    """A date as the integer yyyymmdd: the difference of two, integer-divided by 10000, is
    the age — attained on the birthday, a Feb 29 birth on Mar 1 in common years (R1, R11)."""
    return ExpressionWrapper(
        ExtractYear(expression) * 10000 + ExtractMonth(expression) * 100 + ExtractDay(expression),
        output_field=IntegerField(),
    )


def with_ex_officio_basis(persons: QuerySet[Person], *, today: date) -> QuerySet[Person]:
    """Annotate ``status`` (R5), ``certificate_until`` (the 有効期限 of the person's
    certificate that is not void, if any) and ``basis`` (R6; "" when none applies).

    The SQL mirror of ``rules.ex_officio_basis`` (tests check the two agree on a
    population on both sides of every boundary). Persons must already be limited to
    the eligible ones (``ex_officio_candidates`` does it).
    """
    policy = ex_officio_settings()
    # Grace from the listing day ⇔ expired before the 1st of the month (months_after − 1) before this one.
    listing_bound = rules.add_months(today.replace(day=1), 1 - policy["grace_months_after"])
    helper = ReissueRequest.objects.filter(
        person_id=OuterRef("pk"), reason=HELPER_REASON, status__in=ACCEPTED_REQUEST_STATUSES
    )
    qs = with_status(persons, day=today).annotate(
        # At most one certificate per person is not void (a constraint): a join, no duplicates.
        live_certificate=FilteredRelation(
            "certificates", condition=~Q(certificates__status=EligibilityCertificate.Status.VOID)
        ),
        certificate_until=F("live_certificate__valid_until"),
        certificate_next_day=ExpressionWrapper(
            F("live_certificate__valid_until") + timedelta(days=1), output_field=DateField()
        ),
        needs_helper=Exists(helper),
    ).annotate(
        age_after_certificate=ExpressionWrapper(
            _ymd(F("certificate_next_day")) - _ymd(F("birth_date")), output_field=IntegerField()
        ),
    )
    # R5's statuses from the card's columns directly (the same conditions as with_status's
    # CASE, which the database would otherwise evaluate once per condition below).
    without_card = Q(card__has_card=False) | Q(card__has_card=True, card__registered=False)  # no_card, not_registered
    unknown = Q(card__isnull=True) | Q(card__has_card__isnull=True)  # R5: only bases 2, 4 and 5 apply
    registered = Q(card__has_card=True, card__registered=True)
    lapsed = registered & Q(card__grace_ends_on__lt=today)
    # In grace (expired, grace not over) from the listing day: expired before listing_bound (<= today).
    grace_listed = registered & Q(card__effective_expires_on__lt=listing_bound, card__grace_ends_on__gte=today)
    lapsing = lapsed | grace_listed
    no_usable_card = without_card | lapsing | unknown | Q(my_number_registered=False)
    no_valid_certificate = Q(certificate_until__isnull=True) | Q(certificate_until__lt=today)
    # A new certificate would run longer than this one: it ends before the last eligible day.
    runs_short = (
        Q(age_after_certificate__lt=rules.LATE_ELDERLY_AGE * 10000)
        & (Q(eligible_until__isnull=True) | Q(eligible_until__gt=F("certificate_next_day")))
        & (Q(household__voluntary_continuation=False) | Q(household__voluntary_continuation_ends_on__isnull=True)
           | Q(household__voluntary_continuation_ends_on__gt=F("certificate_until")))
    )
    renewal_due = Q(certificate_until__isnull=False, certificate_until__lte=renewal_horizon(today=today)) & runs_short
    bases = [
        When(no_valid_certificate & Q(eligible_from__lte=rules.EX_OFFICIO_CUTOFF) & without_card,
             then=Value(Basis.CUTOFF.value)),
        When(no_valid_certificate & Q(eligible_from__gt=rules.EX_OFFICIO_CUTOFF, certificate_wanted=True)
             & no_usable_card, then=Value(Basis.ENROLMENT_FORM.value)),
    ]
    if policy["lapsing_listed"]:
        bases.append(When(no_valid_certificate & lapsing, then=Value(Basis.LAPSED.value)))
    bases += [
        When(no_valid_certificate & Q(my_number_registered=False), then=Value(Basis.NO_MY_NUMBER.value)),
        When(renewal_due & (no_usable_card | Q(needs_helper=True)), then=Value(Basis.RENEWAL.value)),
    ]
    return qs.annotate(basis=Case(*bases, default=Value(""), output_field=CharField()))


class UnreadableFilter(ValueError):
    """A filter of the ex-officio list that cannot be read (staff go back to the list)."""


# The ex-officio list's filters, by the names its query string gives them (the admin list
# writes them: ``?basis=renewal&household__employer__id__exact=3&q=たなか``). The admin
# list, its "everyone matching" batch and the CSV export all read them here.
EX_OFFICIO_QUERY = {
    "basis": "basis",
    "household__employer__id__exact": "employer",
    "household__employer__isnull": "no_employer",
    "status": "status",
    "age": "age",
    "new": "new",
    "q": "search",
}
# The list's own parameters (sort order, page, …): not filters.
_LIST_PARAMETERS = {"o", "p", "all", "e", "_to_field", "_popup", "_facets", "after"}
AGE_BANDS = ("0-5", "6-69", "70-74", "75-")


def ex_officio_filters(query: Mapping[str, str]) -> dict[str, str]:
    """The filters of a query string of the list (a ``QueryDict``); ``UnreadableFilter``
    for a parameter the list does not have."""
    filters = {}
    for key in query:
        if key in _LIST_PARAMETERS:
            continue
        if key not in EX_OFFICIO_QUERY:
            raise UnreadableFilter(key)
        if query[key] != "":
            filters[EX_OFFICIO_QUERY[key]] = query[key]
    return filters


def ex_officio_candidates(*, today: date, filters: Mapping[str, str] | None = None) -> QuerySet[Person]:
    """R6: everyone the society must send a 資格確認書 without application, as of ``today``,
    narrowed by the list's ``filters`` (``ex_officio_filters``: basis, employer,
    no_employer, status, age, search).

    Eligible today (R11: nobody aged 75+, nobody past 任意継続's end), each row
    annotated with ``status`` (R5) and ``basis`` (the first of R6's five that
    applies, in R6's order) — see ``with_ex_officio_basis``.
    """
    eligible = Person.objects.filter(eligible_on(today))
    candidates = (
        with_ex_officio_basis(eligible, today=today)
        .exclude(basis="")
        .select_related("household__employer", "household__society")
    )
    for name, value in (filters or {}).items():
        candidates = filter_candidates(candidates, name, value, today=today)
    return candidates


def filter_candidates(candidates: QuerySet[Person], name: str, value: str, *, today: date) -> QuerySet[Person]:
    """One filter of the ex-officio list (the admin list's filters call this too)."""
    if name == "basis":
        return with_basis(candidates, value, today=today)
    if name == "status":
        return candidates.filter(status=value)
    if name == "age":
        return candidates.filter(age_band_q(value, today=today)) if value in AGE_BANDS else candidates
    if name == "employer":
        if not value.isdigit():
            raise UnreadableFilter(name)
        return candidates.filter(household__employer_id=int(value))
    if name == "no_employer":
        if value not in ("True", "False", "1", "0"):
            raise UnreadableFilter(name)
        return candidates.filter(household__employer__isnull=value in ("True", "1"))
    if name == "new":  # the month's proposal: new on the list since the last batch
        if value != "since_last_batch":
            raise UnreadableFilter(name)
        return new_since_last_batch(candidates)
    if name == "search":
        for term in search_terms(value):
            candidates = candidates.filter(search_term_matches("search_text", term))
        return candidates
    raise UnreadableFilter(name)


def with_basis(candidates: QuerySet[Person], basis: str, *, today: date) -> QuerySet[Person]:
    """``candidates`` (from ``ex_officio_candidates``) on ``basis`` only. Adds what each
    basis implies as a plain column condition, so the database can start from a small
    index instead of working out every person's basis (a sparse basis at a million)."""
    implied = {
        Basis.ENROLMENT_FORM.value: Q(certificate_wanted=True),
        Basis.NO_MY_NUMBER.value: Q(my_number_registered=False),
        Basis.RENEWAL.value: Q(live_certificate__valid_until__lte=renewal_horizon(today=today)),
    }
    return candidates.filter(implied.get(basis, Q()), basis=basis)


def ex_officio_counts(*, today: date) -> dict[str, int]:
    """How many people are on the ex-officio list per R6 basis (every basis, 0 included):
    one grouped query."""
    return counts_per_basis(ex_officio_candidates(today=today))


def counts_per_basis(candidates: QuerySet[Person]) -> dict[str, int]:
    """``candidates`` (from ``ex_officio_candidates``) counted per R6 basis, 0 included."""
    counts = dict.fromkeys((b.value for b in EX_OFFICIO_BASES), 0)
    rows = candidates.select_related(None).order_by().values_list("basis")
    counts.update(rows.annotate(n=Count("pk")).values_list("basis", "n"))
    return counts


def last_batch() -> IssueBatch | None:
    return IssueBatch.objects.order_by("-started_at", "-pk").first()


def new_since_last_batch(candidates: QuerySet[Person]) -> QuerySet[Person]:
    """``candidates`` (from ``ex_officio_candidates``) who were not in the last batch: the
    people new on the list since it (those it left out by its filter too). Everyone when
    no batch was ever started."""
    batch = last_batch()
    if batch is None:
        return candidates
    return candidates.exclude(pk__in=BatchItem.objects.filter(batch=batch).values("person_id"))


def ex_officio_basis_of(person: Person, *, today: date) -> rules.ExOfficioBasis | None:
    """R6 for one person, in Python (``rules.ex_officio_basis`` with this person's facts):
    for a person's page, and as the reference the SQL of ``with_ex_officio_basis`` is
    tested against."""
    card = getattr(person, "card", None)
    status = card.status_on(today) if card else rules.Status.UNKNOWN
    live = EligibilityCertificate.objects.filter(person=person).exclude(
        status=EligibilityCertificate.Status.VOID).values_list("valid_until", flat=True).first()
    return rules.ex_officio_basis(
        today=today,
        eligible_from=person.eligible_from,
        last_eligible_day=person.last_eligible_day(),
        status=status,
        expiry=card.effective_expires_on if card else None,
        certificate_wanted=person.certificate_wanted,
        my_number_registered=person.my_number_registered,
        certificate_valid_until=live,
        needs_helper=ReissueRequest.objects.filter(
            person=person, reason=HELPER_REASON, status__in=ACCEPTED_REQUEST_STATUSES).exists(),
        **ex_officio_settings(),
    )


def age_band_q(band: str, *, today: date) -> Q:
    """Persons in an age band on ``today`` (ages 0–5, 6–69, 70–74, 75+), by birth date."""
    def born_by(age: int) -> date:
        # Age >= n on today ⇔ born on or before today minus n years (Feb 29 policy of rules).
        return rules.add_months(today, -12 * age)

    ranges = {
        "0-5": Q(birth_date__gt=born_by(6)),
        "6-69": Q(birth_date__lte=born_by(6), birth_date__gt=born_by(70)),
        "70-74": Q(birth_date__lte=born_by(70), birth_date__gt=born_by(75)),
        "75-": Q(birth_date__lte=born_by(75)),
    }
    return ranges[band]


def with_certificate_panel(persons: QuerySet[Person], *, today: date) -> QuerySet[Person]:
    """For the member dashboard: prefetch each person's valid certificate and open request.

    Adds ``person.valid_certificates`` and ``person.open_requests`` (lists, newest
    first) in two queries for the whole household; ``_person_panel.html`` reads them.
    """
    return persons.prefetch_related(
        Prefetch(
            "certificates",
            queryset=valid_certificates(today=today).order_by("-issued_on", "-pk"),
            to_attr="valid_certificates",
        ),
        Prefetch(
            "reissue_requests",
            queryset=ReissueRequest.objects.filter(status__in=ReissueRequest.OPEN).order_by("-created_at"),
            to_attr="open_requests",
        ),
    )


def requests_for_persons(persons) -> QuerySet[ReissueRequest]:
    return ReissueRequest.objects.filter(person__in=persons).select_related("person").order_by("-created_at")


def review_queue() -> QuerySet[ReissueRequest]:
    """Pending requests, oldest first, with what the reviewer needs on each row."""
    return (
        ReissueRequest.objects.filter(status=ReissueRequest.Status.SUBMITTED)
        .select_related("person__household__employer", "person__card", "requested_by")
        .order_by("created_at", "pk")
    )


def current_certificate(person: Person, *, today: date) -> EligibilityCertificate | None:
    return valid_certificates(today=today).filter(person=person).order_by("-issued_on", "-pk").first()


def batch_state_counts(*, batch_id: int) -> dict[str, int]:
    """How many of a batch's items are in each state (every state, 0 included): one grouped query."""
    counts = dict.fromkeys(BatchItem.State.values, 0)
    counts.update(BatchItem.objects.filter(batch_id=batch_id).order_by().values_list("state")
                  .annotate(n=Count("pk")).values_list("state", "n"))
    return counts
