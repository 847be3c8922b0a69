"""Demo certificates, added by ``seed_demo`` (the demo app) once it has written the
society: a few certificates issued almost five years
ago, so the ex-officio list shows renewals (R6.5) — one of them a 要配慮者's, whose
card works but who stays on the renewal path — and others issued last year, sent to their
事業所 in packets (R12) that the demo's employer contacts have not yet confirmed."""

from datetime import date, timedelta

from django.db.models import Q
from django.utils import timezone

from eligibility import rules
from eligibility.models import Person

from .models import Basis, EligibilityCertificate, ReissueRequest, ReissueRequestEvent
from .services import certificate_issue
from .services.print_files import _create_files, _plan

RENEWALS = 20  # certificates ending within the renewal horizon
HOLDERS = 20  # certificates still running for years (their holders are not listed)


def _issue(persons, *, issued_on: date, basis: str) -> list[EligibilityCertificate]:
    issued = [certificate_issue(person=p, basis=basis, issued_by=None, today=issued_on) for p in persons]
    EligibilityCertificate.objects.filter(pk__in=[c.pk for c in issued]).update(
        status=EligibilityCertificate.Status.MAILED, mailed_at=timezone.now())
    return issued


def add_demo_certificates(*, today: date) -> None:
    five_years_ago = rules.add_months(today, -60)
    without_card = (
        Person.objects.filter(Q(card__has_card=False) | Q(card__has_card__isnull=True), eligible_until__isnull=True,
                              eligible_from__lte=five_years_ago, household__voluntary_continuation=False,
                              birth_date__gt=rules.add_months(today, -12 * 69))
        .order_by("pk")
    )
    people = list(without_card[: RENEWALS + HOLDERS])
    for i, person in enumerate(people[:RENEWALS]):
        # Issued five years ago less a few days: ends within the next weeks.
        _issue([person], issued_on=five_years_ago + timedelta(days=1 + i * 2), basis=Basis.CUTOFF)
    holders = _issue(people[RENEWALS:], issued_on=today - timedelta(days=400), basis=Basis.CUTOFF)
    # Their print file(s) of that day, one per 事業所: the packets the employer contacts
    # (seed_demo's 事業所担当者) find on their pages, still to be confirmed (R12).
    posted = EligibilityCertificate.objects.filter(pk__in=[c.pk for c in holders], delivery_route="employer")
    _create_files(plans=_plan(posted), day=today - timedelta(days=400), route="employer")
    helper = (Person.objects.filter(card__has_card=True, card__registered=True, eligible_until__isnull=True,
                                    eligible_from__lte=five_years_ago, household__voluntary_continuation=False,
                                    birth_date__gt=rules.add_months(today, -12 * 69))
              .exclude(pk__in=[p.pk for p in people]).order_by("pk").first())
    if helper is not None:
        request = ReissueRequest.objects.create(person=helper, reason="needs_helper", status="issued",
                                                details="家族の介助がないとカードリーダーを使えないため")
        ReissueRequestEvent.objects.create(request=request, status="issued")
        certificate = _issue([helper], issued_on=five_years_ago + timedelta(days=10), basis=Basis.APPLICATION)[0]
        EligibilityCertificate.objects.filter(pk=certificate.pk).update(reissue_request=request)
