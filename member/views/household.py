"""The member's pages: the dashboard, linking a login, card facts, calendar, guides.

Every person is fetched through ``selectors`` "for this member": anyone else's is a
404. Writes go through ``services`` (and ``linking`` for the activation code).
"""

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string, select_template
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import record
from core.wareki import format_member_date
from eligibility import dashboard_cache, selectors, services
from eligibility.linking import LinkRefused, link_member
from eligibility.models import CardFacts, CardFactsChange
from reminders.selectors import current_notices

from .. import calendar_export, cards, household_rows, proofs, shell, situation
from ..decorators import member_required
from ..forms import CardFactsForm, LinkForm

LINK_RATE_ACTION = "link_member"


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The busiest page: served from ``dashboard_cache`` until the household changes."""
    today = selectors.today()
    language = get_language() or "ja"
    cacheable = not len(messages.get_messages(request))  # a one-off message is never cached
    page = dashboard_cache.get_page(user_id=request.user.pk, language=language, today=today,
                                     version=cards.CODE_VERSION) if cacheable else None
    if page is None:
        # The login's link and its persons come in one query; the rest of the household
        # (資格確認書, requests, reminder notices) in one more (member.household_rows).
        link, persons = selectors.split_dashboard_rows(list(selectors.dashboard_rows(request.user)), request.user)
        if link is None:
            return redirect("eligibility:link")
        rows = household_rows.load(persons, household_id=link.person.household_id)
        statuses = {p.pk: situation.status_of(p, today=today) for p in persons}  # R5, once a person
        proof_of = proofs.proofs_for(persons, today=today, statuses=statuses, rows=rows)
        situations = [situation.situation_of(p, today=today, proof=proof_of[p.pk], status=statuses[p.pk])
                      for p in persons]
        # Who needs action first, the most urgent first (a stable sort keeps the household's order).
        summary = [{"pk": s.person.pk, "name": s.person.name, "today": s.answer.short_today,
                    "next": s.answer.short_next, "needs_action": s.answer.needs_action}
                   for s in sorted(situations, key=lambda s: (not s.answer.needs_action, s.answer.urgency))]
        content = render_to_string("member/_dashboard.html", {
            "cards": cards.render_cards(situations),
            "summary": summary,
            "action_count": sum(line["needs_action"] for line in summary),
            "notices": current_notices(rows.reminders, day=today, certificates=rows.certificate_days()),
            "may_change_email": link.sees_household,  # the insured person's login: the household's switch
            "household": link.person.household,
            "sees_household": link.sees_household,
            "as_of": _("%(day)s 現在") % {"day": format_member_date(today, language)},
            # Filled in per response: a cached page is shared by the login's browsers.
            "csrf_token": dashboard_cache.CSRF_PLACEHOLDER,
        }, request)
        # The frame (base.html) is the same for every member's page: rendered once a process
        # and language (member.shell), unless this page carries a message or a query string.
        # The menu differs for staff and for an employer contact (who never gets here: the
        # employer middleware confines them), so only a plain member's frame is shared.
        shared = cacheable and not request.user.is_staff and getattr(request, "contact", None) is None
        page = shell.page(request, language=language, content=content, csrf_token=dashboard_cache.CSRF_PLACEHOLDER,
                          shared=shared and not request.GET)
        if cacheable:
            dashboard_cache.set_page(user_id=request.user.pk, language=language, today=today, html=page,
                                     version=cards.CODE_VERSION)
    return HttpResponse(dashboard_cache.with_csrf_token(page, request))


@login_required
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest) -> HttpResponse:
    if selectors.member_link_for(request.user) is not None:
        messages.info(request, _("このログインはすでに加入者情報と連携しています。"))
        return redirect("eligibility:dashboard")
    form = LinkForm(request.POST or None)
    status = 200
    if request.method == "POST":
        # Only wrong attempts are counted: a dry run asks whether any are left.
        if not ratelimit.consume(request, action=LINK_RATE_ACTION, user=request.user, dry_run=True):
            form.add_error(None, _("入力の誤りが続いたため、しばらく受け付けられません。15分ほどたってからお試しください。"))
            status = 429
        elif form.is_valid():
            try:
                person = link_member(user=request.user, **form.cleaned_data)
            except LinkRefused as refused:
                ratelimit.consume(request, action=LINK_RATE_ACTION, user=request.user)
                record(action="login_failed", request=request, summary="加入者との連携に失敗",
                       details={"reason": str(refused)})
                form.add_error(None, _link_refusal_message(str(refused)))
                status = 400
            else:
                record(action="change", request=request, obj=person, summary="ログインを加入者と連携")
                messages.success(request, _("加入者情報と連携しました。"))
                return redirect("eligibility:dashboard")
        else:
            status = 400
    return render(request, "member/link.html", {"form": form}, status=status)


def _link_refusal_message(reason: str) -> str:
    if reason == "minor dependent":
        return _("18歳未満のご家族は、ご自身のログインでは連携できません。被保険者（ご本人）のログインでご確認ください。")
    # Never which field was wrong: that would help someone guess the others.
    return _("入力された内容では連携できませんでした。記号・番号・枝番、生年月日、連携コードをお確かめください。"
             "連携コードは一度しか使えず、有効期限があります。")


@require_http_methods(["GET", "POST"])
@member_required
def card_facts(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_for_member(request.user, pk)
    today = selectors.today()
    current = _card_of(person)
    form = CardFactsForm(request.POST or None, person=person, today=today,
                         initial=CardFactsForm.initial_for(current))
    if request.method == "POST" and form.is_valid():
        change = services.update_card_facts(person=person, changes=form.changes(current),
                                            changed_by=request.user, request=request)
        if change is None:
            messages.info(request, _("変更はありませんでした。"))
        else:
            messages.success(request, _("%(name)sさんのカード情報を更新しました。") % {"name": person.name})
        return redirect("eligibility:dashboard")
    candidates = form.possible_ecerts(current.card_expires_on) if current and current.card_expires_on else None
    history = CardFactsChange.objects.filter(person=person).select_related("changed_by")[:20]
    return render(request, "member/card_facts.html", {
        "person": person, "form": form, "candidates": candidates, "history": history, "today": today,
    }, status=400 if form.errors else 200)


def _card_of(person) -> CardFacts | None:
    try:
        return person.card
    except CardFacts.DoesNotExist:
        return None


@require_GET
@member_required
def calendar(request: HttpRequest) -> HttpResponse:
    today = selectors.today()
    persons = list(selectors.persons_for_link(request.member_link))
    body = calendar_export.household_calendar(persons, today=today)
    record(action="export", request=request, household=request.member_link.person.household,
           summary="期限のカレンダー（.ics）")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="kenpo-dates.ics"'
    return response


@require_GET
def guide_index(request: HttpRequest) -> HttpResponse:
    return render(request, "member/guides/index.html", {"guides": situation.GUIDES.items()})


@require_GET
def guide(request: HttpRequest, slug: str) -> HttpResponse:
    if slug not in situation.GUIDES:
        raise Http404
    template = select_template([f"member/guides/{slug}.html"])
    return HttpResponse(template.render({
        "slug": slug, "title": situation.GUIDES[slug], "guides": situation.GUIDES.items(),
        **situation.guide_context(slug),
    }, request))
