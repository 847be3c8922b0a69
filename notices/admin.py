"""Staff: persons who asked for a paper お知らせ, and printing them as one PDF."""

from django.contrib import admin
from django.http import HttpResponse

from audit.admin_mixins import AuditedModelAdmin
from audit.services import record, record_each
from certificates.services.packets import notice_packets_make
from eligibility.selectors import today

from . import pdf, services
from .items import notice_items
from .models import NoticeRecord


class PaperWaitingFilter(admin.SimpleListFilter):
    title = "紙での交付"
    parameter_name = "paper"

    def lookups(self, request, model_admin):
        return [("waiting", "希望あり・未印刷"), ("printed", "印刷済み"), ("any", "希望あり（すべて）")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "waiting":
            return queryset.filter(paper_requested=True, paper_printed_at__isnull=True)
        if value == "printed":
            return queryset.filter(paper_requested=True, paper_printed_at__isnull=False)
        if value == "any":
            return queryset.filter(paper_requested=True)
        return queryset


@admin.register(NoticeRecord)
class NoticeRecordAdmin(AuditedModelAdmin):  # the list and each detail read are audited
    list_display = ("person", "paper_requested", "paper_printed_at", "available_since", "notified_at")
    list_filter = (PaperWaitingFilter, "paper_requested")
    list_select_related = ("person",)
    search_fields = ("person__family_name_kana", "person__given_name_kana")
    raw_id_fields = ("person",)
    readonly_fields = ("items_digest", "available_since", "notified_at", "paper_printed_at")
    actions = ["print_paper"]

    # 記号・番号 are printed: a clerk's work (notices.change_*), never 閲覧's (issue 24).
    @admin.action(description="選んだ方のお知らせを印刷用PDFにする（印刷済みにする）", permissions=["change"])
    def print_paper(self, request, queryset):
        day = today()
        # Only those who asked for paper, even when "select all" spans the whole list.
        records = list(queryset.filter(paper_requested=True)
                       .select_related("person__household__society").order_by("person__household_id"))
        printed = [r.person for r in records if r.person.is_eligible_on(day)]
        if not printed:
            self.message_user(request, "印刷できる方がいません（紙での交付の希望がない方・資格のない方は除きます）。")
            return None
        body = pdf.render([notice_items(person, today=day) for person in printed], made_on=day)
        services.mark_paper_printed(person_ids=[person.pk for person in printed])
        # R12: those of a 事業所 travel in a packet to it with a list; 任意継続 are posted.
        notice_packets_make(printed)
        record(action="export", request=request, summary=f"資格情報のお知らせ {len(printed)} 人分を印刷用に出力",
               row_count=len(printed))
        # Each member sees that their お知らせ (with 記号・番号) was printed.
        record_each(action="export", request=request, objs=printed, summary="資格情報のお知らせを紙で交付するため印刷")
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="shikaku-oshirase-print.pdf"'
        return response
