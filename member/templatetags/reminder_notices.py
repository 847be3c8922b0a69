"""``{% reminder_notices household %}``: the dashboard's reminder notices (one query)."""

from django import template

from eligibility.selectors import member_link_for, today
from reminders.selectors import notices_for

register = template.Library()


@register.inclusion_tag("member/_reminder_notices_list.html", takes_context=True)
def reminder_notices(context, household):
    request = context.get("request")
    user = getattr(request, "user", None)
    # The dashboard already loaded the login's link (member.decorators.member_required).
    link = getattr(request, "member_link", None) or member_link_for(user)
    return {
        "request": request,
        "household": household,
        "notices": notices_for(link=link, household=household, day=today()),
        "may_change_email": link is not None and household is not None and link.sees_household
        and link.person.household_id == household.pk,
        "csrf_token": context.get("csrf_token"),
    }
