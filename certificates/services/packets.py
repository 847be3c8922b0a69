"""Packets out to the 事業所 and certificates back (RULES.md R12).

- ``packets_make``: when a print file is rendered, each 事業所's certificates in it become
  one packet (事業所あて送付) with one item per certificate; 任意継続 (post) has none.
- ``notice_packets_make``: paper お知らせ printed by staff for people of a 事業所 become one
  packet per 事業所 the same way; 任意継続 households' お知らせ are posted, never packed.
- ``items_mark``: the contact confirms items 手渡し済み, or returns them as undeliverable
  with a reason; staff ``items_repost`` a returned item to the member's address.
- ``collection_record``: the contact records a leaver's voided certificate collected or lost.

Every read and change by a contact is audited per person, so it shows in the member's own
access log (「勤務先の担当者」).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import record, record_persons

from ..models import (
    Collection,
    DeliveryRoute,
    EligibilityCertificate,
    Packet,
    PacketItem,
    PrintFile,
)

Cert = EligibilityCertificate


def packets_make(*, print_file: PrintFile, certificate_ids) -> int:
    """One packet per 事業所 of ``print_file`` holding its rendered certificates. Idempotent."""
    rows = list(Cert.objects.filter(pk__in=list(certificate_ids), delivery_route=DeliveryRoute.EMPLOYER,
                                    employer__isnull=False).values_list("pk", "employer_id"))
    by_employer: dict[int, list[int]] = {}
    for pk, employer_id in rows:
        by_employer.setdefault(employer_id, []).append(pk)
    for employer_id, ids in by_employer.items():
        packet, _ = Packet.objects.get_or_create(print_file=print_file, employer_id=employer_id)
        PacketItem.objects.bulk_create([PacketItem(packet=packet, certificate_id=pk) for pk in ids],
                                       ignore_conflicts=True, batch_size=2000)
    return len(by_employer)


@transaction.atomic
def notice_packets_make(persons) -> int:
    """Staff printed these persons' paper お知らせ (R10): those of a 事業所 (not 任意継続, R8)
    become one new packet per 事業所 with one item each. Needs ``household`` loaded. Returns
    the packets made."""
    by_employer: dict[int, list] = {}
    for person in persons:
        household = person.household
        if household.employer_id and not household.voluntary_continuation:
            by_employer.setdefault(household.employer_id, []).append(person)
    insured = {h.pk: h.insured_person for h in {p.household for group in by_employer.values() for p in group}}
    for employer_id, group in by_employer.items():
        packet = Packet.objects.create(employer_id=employer_id)
        PacketItem.objects.bulk_create([PacketItem(packet=packet, notice_person=person, notice_snapshot=_notice_line(
            person, insured[person.household_id])) for person in group], batch_size=2000)
    return len(by_employer)


def _notice_line(person, insured) -> dict:
    """The お知らせ's list line, in the keys of a certificate's snapshot (``list_row``)."""
    household = person.household
    return {"kind": "notice", "symbol": household.symbol, "number": household.number,
            "branch_number": person.branch_number, "name": person.name,
            "insured_name": insured.name if insured is not None and insured.pk != person.pk else ""}


def packets_of(employer) -> QuerySet[Packet]:
    """The 事業所's packets, newest first, with their counts per state."""
    return with_counts(Packet.objects.filter(employer=employer)).order_by("-created_at", "-pk")


def with_counts(packets: QuerySet[Packet]) -> QuerySet[Packet]:
    return packets.annotate(
        total=Count("items"),
        still_out=Count("items", filter=Q(items__state=PacketItem.State.OUT)),
        handed=Count("items", filter=Q(items__state=PacketItem.State.HANDED)),
        returned=Count("items", filter=Q(items__state__in=[PacketItem.State.RETURNED, PacketItem.State.REPOSTED])),
    ).select_related("print_file")


def packet_rows(packet: Packet) -> QuerySet[PacketItem]:
    """The 一覧表's rows in print order (記号・番号・枝番): who each item is for — never a card
    status, an expiry date or a reason (R12). Values only; the insured person's name for a
    dependent comes from the certificate (or the お知らせ) as printed."""
    return _with_person(packet.items.all()).order_by(
        Coalesce("certificate__person__household__symbol", "notice_person__household__symbol"),
        Coalesce("certificate__person__household__number", "notice_person__household__number"),
        Coalesce("certificate__person__branch_number", "notice_person__branch_number"), "pk",
    ).annotate(snapshot=Coalesce("certificate__snapshot", "notice_snapshot")).values(
        "pk", "state", "return_reason", "person_id", "household_id", "snapshot")


def _with_person(items: QuerySet[PacketItem]) -> QuerySet[PacketItem]:
    """Whose each item is — the certificate's person or the お知らせ's — as ``person_id``/``household_id``."""
    return items.annotate(person_id=Coalesce(F("certificate__person_id"), F("notice_person_id")),
                          household_id=Coalesce(F("certificate__person__household_id"),
                                                F("notice_person__household_id")))


def list_row(snapshot: dict) -> dict:
    """One line of the 一覧表 (the packet's cover sheet, its CSV and its page), from the
    certificate as printed: 記号・番号・枝番, name, the insured person's name for a
    dependent (HR knows employees, not their babies), what is inside. Nothing else (R12)."""
    return {
        "symbol_number": f"{snapshot.get('symbol', '')}・{snapshot.get('number', '')}・{snapshot.get('branch_number', '')}",
        "name": snapshot.get("name", ""),
        "insured_name": snapshot.get("insured_name", ""),
        "content": ("資格情報のお知らせ" if snapshot.get("kind") == "notice"
                    else f"資格確認書（{snapshot.get('serial', '')}）"),
    }


def audit_rows(*, request, rows, summary: str, action: str = AuditEntry.Action.VIEW) -> None:
    """Each person on a page (or in a file) a contact read: one entry in their household's log."""
    record_persons(action=action, request=request, summary=summary,
                   persons=[(r["person_id"], r["household_id"]) for r in rows])


@transaction.atomic
def items_mark(*, packet: Packet, item_ids, state: str, by, return_reason: str = "", request=None) -> int:
    """Mark the packet's still-unconfirmed items 手渡し済み, or returned with a reason.
    Items of another packet, or already confirmed, are left alone. Returns how many moved."""
    if state not in (PacketItem.State.HANDED, PacketItem.State.RETURNED):
        raise ValueError("unknown state")
    if state == PacketItem.State.RETURNED and return_reason not in PacketItem.ReturnReason.values:
        raise ValueError("a return needs a reason")
    items = packet.items.select_for_update(of=("self",)).filter(pk__in=list(item_ids), state=PacketItem.State.OUT)
    rows = list(_with_person(items).values("pk", "person_id", "household_id"))
    moved = packet.items.filter(pk__in=[r["pk"] for r in rows]).update(
        state=state, return_reason=return_reason if state == PacketItem.State.RETURNED else "",
        recorded_at=timezone.now(), recorded_by=by)
    label = PacketItem.State(state).label
    audit_rows(request=request, rows=rows, action=AuditEntry.Action.CHANGE, summary=f"事業所あて送付の受け渡し：{label}")
    return moved


@transaction.atomic
def items_repost(*, item_ids, by, request=None) -> int:
    """Staff: returned items are posted to the member's own address instead."""
    items = PacketItem.objects.select_for_update(of=("self",)).filter(pk__in=list(item_ids), state=PacketItem.State.RETURNED)
    rows = list(_with_person(items).values("pk", "person_id", "household_id"))
    moved = PacketItem.objects.filter(pk__in=[r["pk"] for r in rows]).update(
        state=PacketItem.State.REPOSTED, recorded_at=timezone.now(), recorded_by=by)
    audit_rows(request=request, rows=rows, action=AuditEntry.Action.CHANGE, summary="返送された送付物を本人へ郵送に切り替え")
    return moved


def unconfirmed_packets(*, older_than_days: int) -> QuerySet[Packet]:
    """Packets with items still unconfirmed this many days after they were made, not reminded since."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    still_out = PacketItem.objects.filter(packet=OuterRef("pk"), state=PacketItem.State.OUT)
    return Packet.objects.filter(Exists(still_out), created_at__lte=cutoff).filter(
        Q(reminded_at__isnull=True) | Q(reminded_at__lte=cutoff))


# --- 回収: a leaver's voided certificate --------------------------------------------------


def to_collect(employer) -> QuerySet[Cert]:
    """Certificates of the 事業所 voided at 資格喪失 after they went out via it, with no
    collection recorded: the 回収 list (the only place a former employee appears)."""
    return Cert.objects.filter(_went_out(), employer=employer)


def collections_waiting() -> QuerySet[Cert]:
    """Staff: every leaver's certificate not yet recorded collected, across the 事業所."""
    return Cert.objects.filter(_went_out())


def collections_overdue() -> QuerySet[Cert]:
    """Staff: still to be collected more than ``KENPO_COLLECTION_DAYS`` days after the void."""
    cutoff = timezone.now() - timedelta(days=settings.KENPO_COLLECTION_DAYS)
    return Cert.objects.filter(_went_out(), voided_at__lte=cutoff)


def _went_out() -> Q:
    """Voided at 資格喪失, reached the person via the 事業所 (handed over; or mailed to the
    事業所 before packets were recorded), nothing recorded back yet."""
    return (
        Q(delivery_route=DeliveryRoute.EMPLOYER, status=Cert.Status.VOID, void_reason=Cert.VoidReason.ELIGIBILITY_ENDED,
          collection__isnull=True)
        & (Q(packet_item__state=PacketItem.State.HANDED) | Q(packet_item__isnull=True, mailed_at__isnull=False))
    )


@transaction.atomic
def collection_record(*, employer, certificate_id, outcome: str, by, request=None) -> Collection | None:
    """The contact records one certificate of its 回収 list collected (or lost); None when it
    is not on the list (another 事業所's, already recorded)."""
    if outcome not in Collection.Outcome.values:
        raise ValueError("unknown outcome")
    certificate = to_collect(employer).select_related("person__household").filter(pk=certificate_id).first()
    if certificate is None:
        return None
    collection = Collection.objects.create(certificate=certificate, outcome=outcome, recorded_by=by)
    record(action=AuditEntry.Action.CHANGE, request=request, obj=certificate.person,
           summary=f"資格確認書の回収：{Collection.Outcome(outcome).label}")
    return collection


def packets_remind() -> int:
    """(policy) E-mail the contacts of each 事業所 whose packet still has unconfirmed items
    ``KENPO_PACKET_REMINDER_DAYS`` days after it was made (again after as many days). Only
    counts and a link: never a name or 記号・番号 (R9). Returns the packets reminded."""
    from ..notifications import packet_unconfirmed

    reminded = 0
    for packet in with_counts(unconfirmed_packets(older_than_days=settings.KENPO_PACKET_REMINDER_DAYS)
                              .select_related("employer")):
        marked = Packet.objects.filter(pk=packet.pk, reminded_at=packet.reminded_at).update(reminded_at=timezone.now())
        if marked:  # a second beat run at the same time sends nothing twice
            packet_unconfirmed(packet)
            reminded += 1
    return reminded


# --- Staff: the employer route per 事業所 --------------------------------------------------


def employer_figures(employer_ids) -> dict[int, dict[str, int]]:
    """Per 事業所 (exact counts): items still out (未確認), returned and waiting to be posted,
    leavers' certificates not collected after ``KENPO_COLLECTION_DAYS``, open applications
    filed via it, active contacts."""
    from eligibility.models import EmployerContact

    from ..models import ReissueRequest

    ids = list(employer_ids)
    figures: dict[int, dict[str, int]] = {pk: {"out": 0, "returned": 0, "overdue": 0, "applications": 0,
                                               "contacts": 0} for pk in ids}
    items = (PacketItem.objects.filter(packet__employer_id__in=ids, state__in=[PacketItem.State.OUT,
                                                                              PacketItem.State.RETURNED])
             .values_list("packet__employer_id", "state").annotate(n=Count("pk")))
    for employer_id, state, n in items:
        figures[employer_id]["out" if state == PacketItem.State.OUT else "returned"] = n
    for employer_id, n in (collections_overdue().filter(employer_id__in=ids).values_list("employer_id")
                           .annotate(n=Count("pk"))):
        figures[employer_id]["overdue"] = n
    for employer_id, n in (ReissueRequest.objects.filter(via_employer_id__in=ids, status__in=ReissueRequest.OPEN)
                           .values_list("via_employer_id").annotate(n=Count("pk"))):
        figures[employer_id]["applications"] = n
    for employer_id, n in (EmployerContact.objects.filter(employers__in=ids, removed_at__isnull=True)
                           .values_list("employers").annotate(n=Count("pk"))):
        figures[employer_id]["contacts"] = n
    return figures


def packet_list_pdf(packet: Packet) -> bytes | None:
    """The 一覧表 exactly as printed: the cover pages of the packet's group in its rendered
    print file (the pages before the group's first certificate), cut out without rendering
    again — milliseconds where WeasyPrint takes seconds for ~290 rows. None when the file
    has no PDF (then the caller renders the list)."""
    from .. import pdf

    print_file = packet.print_file
    if print_file is None or not print_file.pdf or not print_file.page_of:
        return None
    ids = {str(pk) for group in print_file.plan if group["employer_id"] == packet.employer_id for pk in group["ids"]}
    pages = [page for pk, page in print_file.page_of.items() if pk in ids]
    if not pages:
        return None
    first = min(pages)
    before = max((page for page in print_file.page_of.values() if page < first), default=0)
    if first - before < 2:
        return None
    with print_file.pdf.open("rb") as handle:
        return pdf.pages_of(handle.read(), list(range(before + 1, first)))
