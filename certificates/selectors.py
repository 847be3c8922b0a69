"""Reads of certificates and requests: the ex-officio list (R6), the review queue,
and what the member dashboard shows. Set-based: one query however many people."""

from datetime import date

from django.conf import settings
from django.db.models import Case, CharField, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When

from eligibility import rules
from eligibility.models import Person
from eligibility.selectors import eligible_on, with_status

from .models import Basis, EligibilityCertificate, ReissueRequest

# R6: statuses without a usable マイナ保険証.
NO_USABLE_CARD = (rules.Status.NO_CARD.value, rules.Status.NOT_REGISTERED.value, rules.Status.LAPSED.value)


def valid_certificates(*, today: date) -> QuerySet[EligibilityCertificate]:
    """Certificates in force on ``today``: not void and not past their 有効期限."""
    return EligibilityCertificate.objects.exclude(status=EligibilityCertificate.Status.VOID).filter(
        valid_until__gte=today
    )


def ex_officio_candidates(*, today: date) -> QuerySet[Person]:
    """R6: everyone the society must send a 資格確認書 without application, as of ``today``.

    Each row is annotated with ``status`` (R5) and ``basis`` (which of R6's three
    bases applies; the first that applies, in R6's order).
    """
    bases = [When(eligible_from__lte=rules.EX_OFFICIO_CUTOFF, then=Value(Basis.CUTOFF.value))]
    bases.append(When(certificate_wanted=True, then=Value(Basis.ENROLMENT_FORM.value)))
    if settings.KENPO_EX_OFFICIO_LAPSED:
        bases.append(When(status=rules.Status.LAPSED.value, then=Value(Basis.LAPSED.value)))
    holds_valid = valid_certificates(today=today).filter(person_id=OuterRef("pk"))
    qs = with_status(Person.objects.filter(eligible_on(today)), day=today)
    return (
        qs.filter(status__in=NO_USABLE_CARD)
        .annotate(holds_valid=Exists(holds_valid))
        .filter(holds_valid=False)
        .annotate(basis=Case(*bases, default=Value(""), output_field=CharField()))
        .exclude(basis="")
        .select_related("household__employer", "household__society")
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
