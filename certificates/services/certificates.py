"""Writes of single certificates: serial numbers, issue, the state machine, voids, rendering.

Every status change goes through a conditional UPDATE (``WHERE status = old``):
zero rows updated means the move was illegal or someone else made it first.
"""

import logging
from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from eligibility import dashboard_cache, rules
from eligibility.models import Person
from eligibility.selectors import today as local_today

from .. import notifications, pdf
from ..models import (
    EligibilityCertificate,
    IllegalTransition,
    ReissueRequest,
    SerialCounter,
)
from ..snapshot import build_snapshot, delivery_route_for

log = logging.getLogger(__name__)
Cert = EligibilityCertificate


def next_serials(count: int, *, year: int) -> list[str]:
    """``count`` new serial numbers (交付番号), unique across the society: ``2026-0000123``."""
    with transaction.atomic():
        counter, _ = SerialCounter.objects.select_for_update().get_or_create(name="certificate")
        first = counter.value + 1
        counter.value += count
        counter.save(update_fields=["value"])
    return [f"{year}-{n:07d}" for n in range(first, first + count)]


def _insured_by_household(persons: list[Person]) -> dict[int, Person]:
    household_ids = {p.household_id for p in persons}
    insured = Person.objects.filter(household_id__in=household_ids, relationship=Person.Relationship.SELF)
    return {p.household_id: p for p in insured}


def _new_certificates(
    *, persons: list[Person], bases: dict[int, str], issued_by, today: date, batch=None, reissue_request=None
) -> list[Cert]:
    """Build (unsaved) certificates for ``persons``, snapshot included. Persons must have
    ``household__society`` and ``household__employer`` loaded."""
    insured = _insured_by_household(persons)
    serials = next_serials(len(persons), year=today.year)
    now = timezone.now()
    certificates = []
    for person, serial in zip(persons, serials, strict=True):
        valid_until = rules.certificate_valid_until(
            issued_on=today, birth_date=person.birth_date, years=settings.KENPO_CERTIFICATE_VALID_YEARS,
            eligible_until=person.last_eligible_day(),
        )
        certificates.append(
            Cert(
                serial=serial,
                person=person,
                basis=bases[person.pk],
                batch=batch,
                reissue_request=reissue_request,
                issued_on=today,
                valid_until=valid_until,
                delivery_route=delivery_route_for(person.household),
                employer_id=person.household.employer_id,
                snapshot=build_snapshot(
                    person=person,
                    insured=insured.get(person.household_id),
                    serial=serial,
                    issued_on=today,
                    valid_until=valid_until,
                ),
                queued_at=now,
                queued_by=issued_by,
            )
        )
    return certificates


def _void_current(*, person_ids, by, reason: str) -> int:
    """Void every non-void certificate of these persons (replaced, lost, ...)."""
    return (
        Cert.objects.filter(person_id__in=person_ids)
        .exclude(status=Cert.Status.VOID)
        .update(status=Cert.Status.VOID, voided_at=timezone.now(), voided_by=by, void_reason=reason)
    )


def certificates_void_ended_eligibility(*, today: date) -> int:
    """R8: void every certificate whose holder's eligibility has ended (資格喪失), in one UPDATE."""
    ended = Person.objects.filter(eligible_until__lte=today).values("pk")
    return (
        Cert.objects.filter(person_id__in=ended)
        .exclude(status=Cert.Status.VOID)
        .update(status=Cert.Status.VOID, voided_at=timezone.now(), void_reason=Cert.VoidReason.ELIGIBILITY_ENDED)
    )


@transaction.atomic
def certificate_issue(
    *, person: Person, basis: str, issued_by, reissue_request: ReissueRequest | None = None, today: date | None = None
) -> Cert:
    """Issue one certificate; the person's previous one is voided in the same transaction."""
    today = today or local_today()
    person = Person.objects.select_related("household__society", "household__employer").get(pk=person.pk)
    # Lock the person's row so two issues for one person queue up instead of colliding.
    list(Person.objects.select_for_update().filter(pk=person.pk).values_list("pk"))
    _void_current(person_ids=[person.pk], by=issued_by, reason=Cert.VoidReason.REPLACED)
    (certificate,) = _new_certificates(
        persons=[person], bases={person.pk: basis}, issued_by=issued_by, today=today, reissue_request=reissue_request
    )
    certificate.save()
    return certificate


def certificate_transition(*, certificate: Cert, to: str, by=None, void_reason: str = "") -> Cert:
    """Move one certificate along the state machine, or raise ``IllegalTransition``."""
    moved = certificates_transition(
        queryset=Cert.objects.filter(pk=certificate.pk), from_status=certificate.status, to=to, by=by,
        void_reason=void_reason,
    )
    if moved != 1:
        raise IllegalTransition(f"{certificate.status} → {to}")
    certificate.refresh_from_db()
    return certificate


def certificates_transition(*, queryset: QuerySet[Cert], from_status: str, to: str, by=None, void_reason="") -> int:
    """Set-based move of every certificate in ``queryset`` that is in ``from_status``.

    Returns how many moved; raises ``IllegalTransition`` for a move the machine forbids.
    """
    if to not in Cert.ALLOWED[Cert.Status(from_status)]:
        raise IllegalTransition(f"{from_status} → {to}")
    now = timezone.now()
    fields = {"status": to}
    if to == Cert.Status.RENDERED:
        fields["rendered_at"] = now
    elif to == Cert.Status.PRINTED:
        fields.update(printed_at=now, printed_by=by)
    elif to == Cert.Status.MAILED:
        fields.update(mailed_at=now, mailed_by=by)
    elif to == Cert.Status.VOID:
        fields.update(voided_at=now, voided_by=by, void_reason=void_reason or Cert.VoidReason.ERROR)
    with transaction.atomic():
        ids = list(queryset.filter(status=from_status).values_list("pk", flat=True))
        moved = Cert.objects.filter(pk__in=ids, status=from_status).update(**fields)
        dashboard_cache.forget_persons(Cert.objects.filter(pk__in=ids).values_list("person_id", flat=True))
        if to == Cert.Status.MAILED:
            for req in ReissueRequest.objects.filter(certificates__pk__in=ids).select_related("requested_by"):
                transaction.on_commit(lambda req=req: notifications.certificate_mailed(req))
    return moved


def certificate_render(*, certificate: Cert) -> bool:
    """Render a queued certificate's PDF and mark it rendered. False if it was not queued
    (already rendered, or voided meanwhile): rendering twice is harmless, moving twice is not."""
    if certificate.status != Cert.Status.QUEUED:
        return False
    content = pdf.render_certificates([certificate.snapshot])
    name = f"certificates/{certificate.issued_on:%Y/%m}/{certificate.serial}.pdf"
    if default_storage.exists(name):
        default_storage.delete(name)
    name = default_storage.save(name, ContentFile(content))
    with transaction.atomic():
        moved = Cert.objects.filter(pk=certificate.pk, status=Cert.Status.QUEUED).update(
            status=Cert.Status.RENDERED, pdf=name, rendered_at=timezone.now(), render_error=""
        )
        if moved:
            dashboard_cache.forget_persons([certificate.person_id])
        if moved and certificate.reissue_request_id:
            # requests import this module to issue: imported here, not at the top
            from .requests import request_mark_issued

            request_mark_issued(request_id=certificate.reissue_request_id, note=certificate.serial)
    return bool(moved)


def certificate_render_by_id(certificate_id: int) -> bool:
    certificate = Cert.objects.select_related("reissue_request__requested_by").get(pk=certificate_id)
    try:
        return certificate_render(certificate=certificate)
    except Exception as exc:
        Cert.objects.filter(pk=certificate_id).update(render_error=_describe(exc))
        raise


def _describe(exc: Exception) -> str:
    # Never the snapshot (it holds 記号・番号): the exception's type and message only.
    return f"{type(exc).__name__}: {exc}"[:500]


