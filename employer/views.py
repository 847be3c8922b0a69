"""The employer door (事業所担当者, RULES.md R12). Thin views: the gate is
``access.contact_required``; who a contact may see is ``eligibility.contacts``; writes and
the 一覧表's rows are ``certificates.services``. Every read of a person is audited per
person, so it shows in the member's own access log.

A packet's list shows who each item is for (記号・番号・枝番, name, the insured person's
name for a dependent) and never a card status, an expiry date or a reason.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import AuditEntry
from audit.services import record, record_persons
from certificates import services
from certificates.models import (
    ACCEPTED_REASONS,
    REFUSED_REASONS,
    Collection,
    Packet,
    PacketItem,
    Reason,
    ReissueRequest,
)
from certificates.request_forms import REASON_DETAILS, ReasonForm, RequestDetailsForm
from certificates.services import packets
from eligibility.contacts import contact_accepted, current_people, person_for_contact
from eligibility.models import normalise_digits
from eligibility.selectors import today

from . import lists
from .access import contact_required
from .forms import CollectionForm, FindPersonForm, MarkForm

PAGE_SIZE = 100


def _posted(request: HttpRequest):
    """The POST data to bind a form to (even when empty), or None for a GET."""
    return request.POST if request.method == "POST" else None


def _packet(employer, pk) -> Packet:
    return get_object_or_404(Packet.objects.select_related("print_file"), pk=pk, employer=employer)


@contact_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    employers = request.contact.employers.order_by("code")
    rows = [
        {"employer": e, "packets_out": packets.packets_of(e).filter(still_out__gt=0).count(),
         "to_collect": packets.to_collect(e).count()}
        for e in employers
    ]
    if len(rows) == 1:
        return redirect("employer:employer", rows[0]["employer"].pk)
    return render(request, "employer/home.html", {"rows": rows})


@contact_required
@require_GET
def employer_page(request: HttpRequest, employer) -> HttpResponse:
    page = Paginator(packets.packets_of(employer), 20).get_page(request.GET.get("page"))
    requests = (ReissueRequest.objects.filter(via_employer=employer).select_related("person")
                .order_by("-created_at")[:20])
    record_persons(action=AuditEntry.Action.VIEW, request=request, summary="事業所経由の申請の一覧を閲覧",
                   persons=[(r.person_id, r.person.household_id) for r in requests])
    return render(request, "employer/employer.html", {
        "employer": employer, "page": page, "to_collect": packets.to_collect(employer).count(),
        "requests": requests,
    })


@contact_required
@require_http_methods(["GET", "POST"])
def packet_page(request: HttpRequest, employer, pk: int) -> HttpResponse:
    packet = _packet(employer, pk)
    rows_qs = packets.packet_rows(packet)
    state = request.GET.get("state", "")
    if state in PacketItem.State.values:
        rows_qs = rows_qs.filter(state=state)
    page = Paginator(rows_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    form = MarkForm(_posted(request), item_ids=[r["pk"] for r in rows])
    if request.method == "POST":
        if form.is_valid():
            moved = packets.items_mark(packet=packet, item_ids=form.cleaned_data["items"],
                                       state=form.cleaned_data["action"], by=request.user,
                                       return_reason=form.cleaned_data.get("return_reason") or "", request=request)
            messages.success(request, _("%(n)d件を記録しました。") % {"n": moved})
            return redirect(request.get_full_path())
        messages.error(request, _("記録できませんでした。内容を確かめてください。"))
    packets.audit_rows(request=request, rows=rows, summary="事業所あて送付の一覧表を閲覧")
    counts = dict(packet.items.values_list("state").annotate(n=Count("pk")))
    return render(request, "employer/packet.html", {
        "employer": employer, "packet": packet, "page": page, "rows": lists.rows_for_page(rows), "form": form,
        "state": state, "states": PacketItem.State.choices, "return_reasons": PacketItem.ReturnReason.choices,
        "counts": [(label, counts.get(value, 0)) for value, label in PacketItem.State.choices],
    }, status=200 if form.is_bound is False or form.is_valid() else 400)


@contact_required
@require_GET
def packet_csv(request: HttpRequest, employer, pk: int) -> HttpResponse:
    packet = _packet(employer, pk)
    encoding = request.GET.get("encoding", "cp932")
    if encoding not in lists.ENCODINGS:
        raise Http404
    rows = list(packets.packet_rows(packet))
    packets.audit_rows(request=request, rows=rows, action=AuditEntry.Action.DOWNLOAD,
                       summary="事業所あて送付の一覧表（CSV）をダウンロード")
    response = StreamingHttpResponse(lists.csv_lines(rows, encoding=encoding), content_type=f"text/csv; charset={lists.ENCODINGS[encoding]}")
    response["Content-Disposition"] = f'attachment; filename="packet-{packet.pk}.csv"'
    return response


@contact_required
@require_GET
def packet_pdf(request: HttpRequest, employer, pk: int) -> HttpResponse:
    packet = _packet(employer, pk)
    rows = list(packets.packet_rows(packet))
    packets.audit_rows(request=request, rows=rows, action=AuditEntry.Action.DOWNLOAD,
                       summary="事業所あて送付の一覧表（PDF）をダウンロード")
    content = packets.packet_list_pdf(packet) or lists.pdf(employer=employer, packet=packet, rows=rows)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="packet-{packet.pk}.pdf"'
    return response


# --- Applications in (施行規則47) -------------------------------------------------------


@contact_required
@require_http_methods(["GET", "POST"])
def apply_find(request: HttpRequest, employer) -> HttpResponse:
    """Find the household by the insured person's 記号・番号 (a POST: never in a URL)."""
    form = FindPersonForm(_posted(request))
    persons = None
    if request.method == "POST" and form.is_valid():
        persons = list(current_people(employer, day=today()).filter(
            household__symbol=normalise_digits(form.cleaned_data["symbol"]),
            household__number=normalise_digits(form.cleaned_data["number"]),
        ).order_by("branch_number"))
        record_persons(action=AuditEntry.Action.VIEW, request=request, summary="申請のため記号・番号で検索",
                       persons=[(p.pk, p.household_id) for p in persons])
    return render(request, "employer/apply_find.html", {"employer": employer, "form": form, "persons": persons},
                  status=400 if form.is_bound and not form.is_valid() else 200)


@contact_required
@require_http_methods(["GET", "POST"])
def apply_reason(request: HttpRequest, employer, person_id: int) -> HttpResponse:
    person = person_for_contact(employer, person_id, day=today())
    form = ReasonForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        reason = Reason(form.cleaned_data["reason"])
        if reason in REFUSED_REASONS:
            return render(request, "employer/apply_refused.html", {"employer": employer, "person": person,
                                                                    "reason": reason})
        return redirect("employer:apply_details", employer.pk, person.pk, reason.value)
    record(action=AuditEntry.Action.VIEW, request=request, obj=person, summary="事業所経由の申請のため閲覧")
    return render(request, "employer/apply_reason.html", {"employer": employer, "person": person, "form": form})


@contact_required
@require_http_methods(["GET", "POST"])
def apply_details(request: HttpRequest, employer, person_id: int, reason: str) -> HttpResponse:
    person = person_for_contact(employer, person_id, day=today())
    if reason not in [r.value for r in ACCEPTED_REASONS]:
        raise Http404
    form = RequestDetailsForm(_posted(request), reason=reason)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_submit_via_employer(
                person=person, employer=employer, by=request.user, reason=reason,
                noticed_on=form.cleaned_data.get("noticed_on"), details=form.cleaned_data["details"], request=request)
        except services.RequestRefused as refused:  # check_request: the reason in words (R11, R6, open …)
            messages.error(request, refused.refusal.message)
            return redirect("employer:employer", employer.pk)
        messages.success(request, _("%(name)sさんの申請を受け付けました。ご本人にも画面とメールでお知らせします。")
                         % {"name": person.name})
        return redirect("employer:employer", employer.pk)
    return render(request, "employer/apply_details.html", {
        "employer": employer, "person": person, "form": form, "reason": Reason(reason),
        "config": REASON_DETAILS[Reason(reason)],
    }, status=400 if form.is_bound and not form.is_valid() else 200)


# --- 回収 (a leaver's voided certificate) ------------------------------------------------


@contact_required
@require_GET
def collections(request: HttpRequest, employer) -> HttpResponse:
    qs = packets.to_collect(employer).select_related("person__household").order_by("voided_at", "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    record_persons(action=AuditEntry.Action.VIEW, request=request, summary="資格確認書の回収一覧を閲覧",
                   persons=[(c.person_id, c.person.household_id) for c in page.object_list])
    return render(request, "employer/collections.html", {
        "employer": employer, "page": page, "outcomes": Collection.Outcome.choices,
    })


@contact_required
@require_POST
def collection_record(request: HttpRequest, employer) -> HttpResponse:
    form = CollectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("記録できませんでした。内容を確かめてください。"))
        return redirect("employer:collections", employer.pk)
    done = packets.collection_record(employer=employer, certificate_id=form.cleaned_data["certificate"],
                                     outcome=form.cleaned_data["outcome"], by=request.user, request=request)
    if done is None:
        raise Http404
    messages.success(request, _("回収の結果を記録しました。"))
    return redirect("employer:collections", employer.pk)


# --- The invitation -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The invitation link: the contact sets a password (once), then signs in and sets up TOTP."""
    try:
        user = get_user_model().objects.get(pk=force_str(urlsafe_base64_decode(uidb64)), is_active=True,
                                            employer_contact__removed_at__isnull=True)
    except (ValueError, TypeError, OverflowError, get_user_model().DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        return render(request, "employer/accept_invalid.html", status=400)
    form = SetPasswordForm(user, _posted(request))
    if request.method == "POST" and form.is_valid():
        form.save()
        contact_accepted(user=user)
        messages.success(request, _("パスワードを設定しました。メールアドレスと新しいパスワードでログインし、認証アプリを設定してください。"))
        return redirect(f"{reverse('account_login')}?next={reverse('employer:home')}")
    return render(request, "employer/accept.html", {"form": form, "contact": user.employer_contact},
                  status=400 if form.is_bound and not form.is_valid() else 200)
