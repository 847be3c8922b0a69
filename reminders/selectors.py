"""Reads of the reminders app: who gets the e-mail, what the dashboard shows, staff counts."""

from datetime import date

from django.db.models import Count, QuerySet

from certificates.models import EligibilityCertificate
from eligibility.models import MemberLink
from eligibility.selectors import Login, household_logins, persons_for_link, persons_for_member

from .models import Reminder


def recipients_for(*, household_ids: list[int]) -> dict[int, list[Login]]:
    """The logins e-mailed about these households (``eligibility.selectors.household_logins``)."""
    return household_logins(household_ids)


def valid_certificates(rows: list[Reminder]) -> set[tuple[int, date]]:
    """(person, valid-until) of the non-void 資格確認書 behind these rows (one query)."""
    persons = [r.person_id for r in rows if r.subject == Reminder.Subject.CERTIFICATE]
    if not persons:
        return set()
    return set(
        EligibilityCertificate.objects.filter(person_id__in=persons).exclude(status=EligibilityCertificate.Status.VOID)
        .values_list("person_id", "valid_until")
    )


def still_relevant(row: Reminder, *, day: date, certificates: set[tuple[int, date]]) -> bool:
    """Things change after the scan: a renewal, a replaced or void 資格確認書, or the
    end of eligibility make a row moot (not sent, and no longer shown)."""
    if not row.person.is_eligible_on(day):
        return False
    if row.subject == Reminder.Subject.CERTIFICATE:
        return (row.person_id, row.expires_on) in certificates
    card = getattr(row.person, "card", None)
    return card is not None and card.effective_expires_on == row.expires_on and card.registered


def notices_for(*, link: MemberLink | None, household, day: date) -> list[Reminder]:
    """The undismissed notices this login may see on ``day``: the latest per person and
    subject, and only while it still applies (not after a renewal, a void certificate or
    the end of eligibility). The daily scan replaces a passed stage with the next one."""
    if household is None or link is None:
        return []
    rows = list(
        Reminder.objects.filter(
            household_id=household.pk, dismissed_at__isnull=True,
            person__in=persons_for_link(link).values("id"),
        )
        .select_related("person__card", "person__household")  # still_relevant: eligibility needs 任意継続
        .order_by("person__branch_number", "subject", "-expires_on", "-due_on", "-id")
    )
    return current_notices(rows, day=day, certificates=valid_certificates(rows))


def current_notices(rows: list[Reminder], *, day: date, certificates: set[tuple[int, date]]) -> list[Reminder]:
    """Of undismissed ``rows`` (each with ``person`` loaded, as ``notices_for`` selects them,
    in any order), the latest per person and subject that still applies on ``day``, in the
    household's order; ``certificates``: (person, valid-until) of the 資格確認書 not void."""
    latest: dict[tuple[int, str], Reminder] = {}
    for row in sorted(rows, key=lambda r: (r.expires_on, r.due_on, r.pk), reverse=True):
        latest.setdefault((row.person_id, row.subject), row)
    shown = [row for row in latest.values() if still_relevant(row, day=day, certificates=certificates)]
    return sorted(shown, key=lambda r: (r.person.branch_number, r.subject))


def reminder_for_member(user, pk) -> Reminder:
    """One reminder of a person this login may see, or 404."""
    from django.http import Http404

    try:
        return Reminder.objects.get(pk=pk, person__in=persons_for_member(user).values("id"))
    except (Reminder.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def counts_per_day(*, days: int = 60) -> QuerySet:
    """Staff: rows per お知らせ日 and status, newest first."""
    return (
        Reminder.objects.values("due_on", "status")
        .annotate(n=Count("id"))
        .order_by("-due_on", "status")[: days * len(Reminder.Status)]
    )
