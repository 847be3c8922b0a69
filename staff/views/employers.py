"""Staff pages of the employer route (RULES.md R12), per 事業所: its contacts, packets out,
handovers and returns, leavers' certificates still to be collected, applications filed
via it. Returned items are re-routed to post from here. Reads of persons are audited."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEntry
from audit.services import record_persons
from certificates.models import PacketItem, ReissueRequest
from certificates.services import packets
from eligibility.models import Employer, EmployerContact
from staff.access import staff_required

VIEW = "certificates.view_packet"
CHANGE = "certificates.change_packetitem"


@staff_required(VIEW)
@require_GET
def employer_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(Employer.objects.order_by("code"), 50).get_page(request.GET.get("page"))
    figures = packets.employer_figures(e.pk for e in page.object_list)
    rows = [{"employer": e, **figures[e.pk]} for e in page.object_list]
    return render(request, "staff/employers.html", {
        **admin.site.each_context(request), "title": _("事業所経由の送付・申請・回収"), "page": page, "rows": rows,
    })


@staff_required(VIEW)
@require_GET
def employer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    employer = get_object_or_404(Employer, pk=pk)
    returned = list(PacketItem.objects.filter(packet__employer=employer, state=PacketItem.State.RETURNED)
                    .select_related("certificate__person__household", "notice_person__household").order_by("recorded_at")[:200])
    overdue = list(packets.collections_overdue().filter(employer=employer)
                   .select_related("person__household").order_by("voided_at")[:200])
    applications = list(ReissueRequest.objects.filter(via_employer=employer).select_related("person__household")
                        .order_by("-created_at")[:50])
    record_persons(action=AuditEntry.Action.VIEW, request=request, summary="事業所経由の送付・回収・申請を閲覧",
                   persons={(x.person.pk, x.person.household_id) for x in [*returned, *overdue, *applications]})
    return render(request, "staff/employer_detail.html", {
        **admin.site.each_context(request), "title": employer.name, "employer": employer,
        "figures": packets.employer_figures([employer.pk])[employer.pk],
        "contacts": EmployerContact.objects.filter(employers=employer).select_related("user").order_by("name"),
        "packets": packets.packets_of(employer)[:20],
        "handed": PacketItem.objects.filter(packet__employer=employer, state=PacketItem.State.HANDED).aggregate(
            n=Count("pk"))["n"],
        "returned": returned, "overdue": overdue, "applications": applications,
        "can_repost": request.user.has_perm(CHANGE), "collection_days": settings.KENPO_COLLECTION_DAYS,
    })


@staff_required(CHANGE)
@require_POST
def employer_repost(request: HttpRequest, pk: int) -> HttpResponse:
    employer = get_object_or_404(Employer, pk=pk)
    ids = [int(v) for v in request.POST.getlist("items") if v.isdigit()]
    moved = packets.items_repost(item_ids=PacketItem.objects.filter(pk__in=ids, packet__employer=employer)
                                 .values_list("pk", flat=True), by=request.user, request=request)
    messages.success(request, _("%(n)d件を本人あての郵送に切り替えました。") % {"n": moved})
    return redirect("staff:employer_detail", employer.pk)
