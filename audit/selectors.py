"""Reads of the audit log."""

from django.db.models import Q, QuerySet

from .models import AuditEntry

# What a member is shown: staff opening or acting on their records, not their own logins.
STAFF_ACTIONS = (
    AuditEntry.Action.VIEW,
    AuditEntry.Action.CHANGE,
    AuditEntry.Action.EXPORT,
    AuditEntry.Action.DOWNLOAD,
    AuditEntry.Action.IMPORT,
    AuditEntry.Action.ISSUE,
)
NOT_STAFF_ROLES = ("member", "system")


def staff_access_for_member(link) -> QuerySet[AuditEntry]:
    """Staff accesses to the records a member's login (its ``MemberLink``) may see: its
    household, or only itself.

    Like マイナポータル's access record (やりとり履歴): when, which role, what — never
    which staff member.
    """
    if link is None:
        return AuditEntry.objects.none()
    # Staff accesses, and the member's own downloads of a 資格情報のお知らせ (R10).
    qs = AuditEntry.objects.filter(
        (Q(action__in=STAFF_ACTIONS) & ~Q(actor_role__in=NOT_STAFF_ROLES))
        | Q(action=AuditEntry.Action.DOWNLOAD, details__document="eligibility_notice")
    )
    if link.sees_household:
        qs = qs.filter(household_id=link.person.household_id)
    else:
        # A dependent's own login: entries about that person (CardFacts share its id).
        qs = qs.filter(
            Q(object_type__in=("eligibility.Person", "eligibility.CardFacts")) & Q(object_id=str(link.person_id))
        )
    return qs.only("at", "action", "actor_role", "object_type", "object_id", "details").order_by("-at")
