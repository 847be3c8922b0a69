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
from django.db.models import Q, QuerySet
from django.utils import timezone

from approvals.models import Approval
from approvals.services import approval_request, four_eyes
from audit.services import record
from eligibility import dashboard_cache, rules
from eligibility.models import Person
from eligibility.selectors import today as local_today

from .. import notifications, pdf
from ..models import (
    Basis,
    DeliveryRoute,
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


class CertificateRefused(Exception):
    """A certificate that must not be issued; the message says why, in the staff's words."""


def mailing_problem(person: Person) -> str:
    """Why a certificate for ``person`` could not be delivered, or "" (R8: 任意継続 members
    get it by post at the address the roster carries; without one it cannot be mailed)."""
    household = person.household
    if delivery_route_for(household) == DeliveryRoute.POST and not household.address.strip():
        return "送付先の住所が名簿にありません（郵便番号・住所を登録してから交付してください）"
    return ""


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
    """R8: void every certificate whose holder's eligibility has ended (資格喪失日 reached,
    turned 75 (R11), or 任意継続 over), in one UPDATE."""
    ended = Person.objects.filter(
        Q(eligible_until__lte=today)
        | Q(birth_date__lte=rules.add_months(today, -12 * rules.LATE_ELDERLY_AGE))
        | Q(household__voluntary_continuation=True, household__voluntary_continuation_ends_on__lt=today)
    ).values("pk")
    return (
        Cert.objects.filter(person_id__in=ended)
        .exclude(status=Cert.Status.VOID)
        .update(status=Cert.Status.VOID, voided_at=timezone.now(), void_reason=Cert.VoidReason.ELIGIBILITY_ENDED)
    )


@transaction.atomic
def certificate_issue(
    *, person: Person, basis: str, issued_by, reissue_request: ReissueRequest | None = None, today: date | None = None
) -> Cert:
    """Issue one certificate; the person's previous one is voided in the same transaction.

    Refused (``CertificateRefused``) for a person without eligibility today, and for one
    it could not be mailed to. The PDF is made in the day's print file (``print_files``)."""
    today = today or local_today()
    person = Person.objects.select_related("household__society", "household__employer").get(pk=person.pk)
    if not person.is_eligible_on(today):
        raise CertificateRefused("資格がないため交付できません")
    if problem := mailing_problem(person):
        raise CertificateRefused(problem)
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


@transaction.atomic
def certificate_issue_single(*, person: Person, basis: str, by, request=None, today: date | None = None) -> Cert:
    """A clerk issues (or re-issues) one certificate from the person's page. It goes into
    the day's print file of its delivery route; audited."""
    certificate = certificate_issue(person=person, basis=basis, issued_by=by, today=today)
    dashboard_cache.forget_persons([person.pk])
    record(action="issue", request=request, actor=by, obj=certificate,
           summary=f"資格確認書 {certificate.serial} を1枚交付（{Basis(basis).label}）")
    return certificate


@transaction.atomic
def certificates_void(*, queryset: QuerySet[Cert], reason: str, by, request=None) -> int:
    """Void every certificate in ``queryset`` that is not void yet, for a reason a clerk
    chose (``STAFF_VOID_REASONS``); each one audited. Returns how many were voided."""
    if reason not in Cert.STAFF_VOID_REASONS:
        raise ValueError("unknown void reason")
    ids = list(queryset.exclude(status=Cert.Status.VOID).select_for_update().values_list("pk", flat=True))
    moved = Cert.objects.filter(pk__in=ids).exclude(status=Cert.Status.VOID).update(
        status=Cert.Status.VOID, voided_at=timezone.now(), voided_by=by, void_reason=reason)
    label = Cert.VoidReason(reason).label
    for certificate in Cert.objects.filter(pk__in=ids).select_related("person__household"):
        record(action="change", request=request, actor=by, obj=certificate,
               summary=f"資格確認書 {certificate.serial} を無効にした（{label}）", details={"void_reason": reason})
    dashboard_cache.forget_persons(Cert.objects.filter(pk__in=ids).values_list("person_id", flat=True))
    return moved


def certificates_void_or_ask(*, queryset: QuerySet[Cert], reason: str, by, request=None) -> Approval | None:
    """Void the certificates now, or — four eyes (KENPO_FOUR_EYES) — ask a second staff member to:
    they stay valid until the void is approved (``certificates_void_approved``). Returns the
    approval asked for, or None when voided now."""
    if reason not in Cert.STAFF_VOID_REASONS:
        raise ValueError("unknown void reason")
    if not four_eyes():
        certificates_void(queryset=queryset, reason=reason, by=by, request=request)
        return None
    serials = list(queryset.exclude(status=Cert.Status.VOID).order_by("pk").values_list("pk", "serial"))
    if not serials:
        return None  # nothing left to void
    shown = "、".join(serial for _pk, serial in serials[:5]) + ("…" if len(serials) > 5 else "")
    return approval_request(
        kind=Approval.Kind.VOID, by=by, request=request, payload={"ids": [pk for pk, _s in serials], "reason": reason},
        summary=f"資格確認書 {len(serials)}通を無効にする（{Cert.VoidReason(reason).label}）: {shown}",
    )


def certificates_void_approved(*, approval: Approval, request=None) -> int:
    """A void a second staff member approved: the certificates still valid are voided (by the approver)."""
    return certificates_void(queryset=Cert.objects.filter(pk__in=approval.payload["ids"]),
                             reason=approval.payload["reason"], by=approval.decided_by, request=request)


class CertificateVoid(Exception):
    """A voided certificate is never served as printable (R8)."""


def certificate_pdf(*, certificate: Cert) -> bytes:
    """The single-certificate PDF (download, re-print): rendered from the snapshot on first
    use and kept, so the same certificate is the same file byte for byte every time."""
    if certificate.status == Cert.Status.VOID:
        raise CertificateVoid(certificate.serial)
    if certificate.pdf:
        try:
            with certificate.pdf.open("rb") as handle:
                return handle.read()
        except FileNotFoundError:
            pass  # not on this host's storage: the snapshot renders it again, identically
    content = pdf.render_certificates([certificate.snapshot])
    name = f"certificates/{certificate.issued_on:%Y/%m}/{certificate.serial}.pdf"
    if default_storage.exists(name):
        default_storage.delete(name)
    name = default_storage.save(name, ContentFile(content))
    Cert.objects.filter(pk=certificate.pk).update(pdf=name)
    certificate.pdf.name = name
    return content


def describe_error(exc: Exception) -> str:
    # Never the snapshot (it holds 記号・番号): the exception's type and message only.
    return f"{type(exc).__name__}: {exc}"[:500]


