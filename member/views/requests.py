"""Members' pages: the guided re-issue request (reason first, then the details it needs),
their requests with history, withdraw. Persons and requests are fetched "for this
member" (404 otherwise); writes go through ``services``."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certificates import selectors, services
from certificates.models import (
    ACCEPTED_REASONS,
    REFUSED_REASONS,
    IllegalTransition,
    Reason,
    ReissueRequest,
)
from certificates.request_forms import REASON_DETAILS, ReasonForm, RequestDetailsForm
from eligibility import selectors as eligibility_selectors

from ..decorators import member_required


def _request_for_member(user, pk) -> ReissueRequest:
    persons = eligibility_selectors.persons_for_member(user)
    return get_object_or_404(ReissueRequest.objects.select_related("person"), pk=pk, person__in=persons)


def _closed(request: HttpRequest, person, refusal: services.Refusal) -> HttpResponse | None:
    """The page for a person no request is accepted for (``services.check_request``): an open
    one is followed, anything else is explained — never a form that cannot succeed."""
    if refusal.code == services.OPEN_REQUEST:
        open_request = person.reissue_requests.filter(status__in=ReissueRequest.OPEN).first()
        if open_request:
            return redirect("certificates:request_detail", open_request.pk)
    return render(request, "member/request_closed.html", {"person": person, "refusal": refusal},
                  status=200 if request.method == "GET" else 400)


@member_required
@require_http_methods(["GET", "POST"])
def request_start(request: HttpRequest, person_id: int) -> HttpResponse:
    """Step 1: why? Accepted reasons lead to the form; refused ones are explained."""
    person = eligibility_selectors.person_for_member(request.user, person_id)
    refusal = services.check_request(person, None, today=eligibility_selectors.today())
    if refusal is not None:
        return _closed(request, person, refusal)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = Reason(form.cleaned_data["reason"])
        if reason in REFUSED_REASONS:
            return render(request, "member/request_refused.html", {"person": person, "reason": reason})
        return redirect("certificates:request_form", person.pk, reason.value)
    return render(request, "member/request_start.html", {"person": person, "form": form})


@member_required
@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest, person_id: int, reason: str) -> HttpResponse:
    """Step 2: the details the chosen reason needs."""
    person = eligibility_selectors.person_for_member(request.user, person_id)
    if reason not in [r.value for r in ACCEPTED_REASONS]:
        raise Http404
    refusal = services.check_request(person, reason, today=eligibility_selectors.today())
    if refusal is not None:
        return _closed(request, person, refusal)
    form = RequestDetailsForm(request.POST or None, reason=reason)
    if request.method == "POST" and form.is_valid():
        try:
            req = services.request_submit(
                person=person, requested_by=request.user, reason=reason,
                noticed_on=form.cleaned_data.get("noticed_on"), details=form.cleaned_data["details"],
                request=request,
            )
        except services.RequestRefused as refused:  # something changed since the check above
            return _closed(request, person, refused.refusal)
        messages.success(request, _("申請を受け付けました。結果はメールとこの画面でお知らせします。"))
        return redirect("certificates:request_detail", req.pk)
    return render(request, "member/request_form.html", {
        "person": person, "form": form, "reason": Reason(reason), "config": REASON_DETAILS[Reason(reason)],
    })


@member_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    persons = eligibility_selectors.persons_for_member(request.user)
    today = eligibility_selectors.today()
    # Offered only where it would be accepted; elsewhere the refusal says why (R6, R11 …).
    rows = [(person, services.check_request(person, None, today=today)) for person in persons]
    return render(request, "member/request_list.html", {
        "requests": selectors.requests_for_persons(persons), "persons": rows,
    })


@member_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = _request_for_member(request.user, pk)
    certificate = req.certificates.order_by("-pk").first()
    return render(request, "member/request_detail.html", {
        "req": req, "events": req.events.all(), "certificate": certificate,
    })


@member_required
@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    req = _request_for_member(request.user, pk)
    try:
        services.request_withdraw(req=req, by=request.user, request=request)
        messages.success(request, _("申請を取り下げました。"))
    except IllegalTransition:
        messages.error(request, _("審査が済んだ申請は取り下げられません。"))
    return redirect("certificates:request_detail", req.pk)
