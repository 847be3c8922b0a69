"""Reads of the audit log."""

from django.db.models import Q, QuerySet

from eligibility.selectors import member_link_for

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


def staff_access_for_member(user) -> QuerySet[AuditEntry]:
    """Staff accesses to the records this login may see (its household, or only itself).

    Like マイナポータル's access record (やりとり履歴): when, which role, what — never
    which staff member.
    """
    link = member_link_for(user)
    if link is None:
        return AuditEntry.objects.none()
    qs = AuditEntry.objects.filter(action__in=STAFF_ACTIONS).exclude(actor_role__in=NOT_STAFF_ROLES)
    if link.sees_household:
        qs = qs.filter(household_id=link.person.household_id)
    else:
        # A dependent's own login: entries about that person (CardFacts share its id).
        qs = qs.filter(
            Q(object_type__in=("eligibility.Person", "eligibility.CardFacts")) & Q(object_id=str(link.person_id))
        )
    return qs.only("at", "action", "actor_role", "object_type", "object_id").order_by("-at")
