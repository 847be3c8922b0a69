"""Member actions on reminders: dismiss a dashboard notice, turn e-mail on or off."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from eligibility.selectors import member_link_for
from reminders import selectors, services


@require_POST
@login_required
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    reminder = selectors.reminder_for_member(request.user, pk)
    services.dismiss(reminder=reminder)
    messages.success(request, _("お知らせを閉じました。"))
    return redirect("eligibility:dashboard")


@require_POST
@login_required
def email_preference(request: HttpRequest) -> HttpResponse:
    """Household-wide, so only the insured person's login may change it."""
    link = member_link_for(request.user)
    if link is None or not link.sees_household:
        raise Http404
    value = request.POST.get("email_reminders")
    if value not in ("on", "off"):
        messages.error(request, _("選択が正しくありません。"))
        return redirect("eligibility:dashboard")
    services.set_email_reminders(household=link.person.household, enabled=value == "on", request=request)
    if value == "on":
        messages.success(request, _("期限のお知らせをメールでもお送りします。"))
    else:
        messages.success(request, _("期限のお知らせメールを停止しました。ダッシュボードには引き続き表示されます。"))
    return redirect("eligibility:dashboard")
