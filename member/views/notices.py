"""The member's お知らせ: the list of persons this login sees, and each one's PDF.

Persons come through eligibility's "for this member" lookup (404 for anyone else);
every download is audited and shows in the member's access log.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.services import record
from eligibility import selectors
from notices import pdf
from notices.items import notice_items

from ..decorators import member_required

AUDIT_DOCUMENT = "eligibility_notice"


@require_GET
@member_required
def index(request: HttpRequest) -> HttpResponse:
    today = selectors.today()
    persons = [p for p in selectors.persons_for_link(request.member_link).select_related("household__society")
               if p.is_eligible_on(today)]
    return render(request, "member/notices.html", {"persons": persons})


@require_GET
@login_required
def download(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_for_member(request.user, pk)
    today = selectors.today()
    if not person.is_eligible_on(today):
        raise Http404  # R11 and lost eligibility: no お知らせ for someone who is not a member
    body = pdf.render([notice_items(person, today=today)], made_on=today)
    record(action="download", request=request, obj=person, summary="資格情報のお知らせ（PDF）をダウンロード",
           details={"document": AUDIT_DOCUMENT})
    response = HttpResponse(body, content_type="application/pdf")
    # Never the name or 記号・番号 in the file name (it ends up in logs and histories).
    response["Content-Disposition"] = f'attachment; filename="shikaku-oshirase-{person.pk}.pdf"'
    return response
