"""アクセス記録: when and by which role staff opened this member's records."""

import functools

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from audit import selectors
from audit.services import EMPLOYER, role_label
from eligibility.selectors import member_link_for, persons_for_member

MEMBER_LABEL = _("ご本人・ご家族のログイン")  # the member's own お知らせ downloads (R10)
EMPLOYER_LABEL = _("勤務先の担当者")  # 事業所担当者 (R12): packets, applications, 回収
PERSON_TYPES = ("eligibility.Person", "eligibility.CardFacts")


@functools.cache
def _kinds() -> dict[str, str]:
    """What each model is called ("app_label.Model" → its verbose name)."""
    return {model._meta.label: model._meta.verbose_name for model in apps.get_models()}


def _what(entry, names: dict[str, str]) -> str:
    kind = _kinds().get(entry.object_type) or _("世帯の記録")
    if (entry.details or {}).get("document") == "eligibility_notice":
        kind = _("資格情報のお知らせ")
    name = names.get(entry.object_id) if entry.object_type in PERSON_TYPES else None
    return f"{kind}（{name}）" if name else str(kind)


def _role(actor_role: str):
    if actor_role == "member":
        return MEMBER_LABEL
    if actor_role == EMPLOYER:
        return EMPLOYER_LABEL
    return role_label(actor_role) or _("職員")


@require_GET
@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    """アクセス記録: when and by which role staff opened this member's records."""
    page = Paginator(selectors.staff_access_for_member(member_link_for(request.user)), 50).get_page(request.GET.get("page"))
    names = {str(p.pk): p.name for p in persons_for_member(request.user)}
    rows = [
        {"entry": e, "role": _role(e.actor_role),
         "what": _what(e, names)}
        for e in page.object_list
    ]
    return render(request, "member/access_log.html", {"page": page, "rows": rows})
