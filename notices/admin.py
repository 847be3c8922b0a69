"""Staff: persons who asked for a paper お知らせ, and printing them as one PDF."""

from django.contrib import admin
from django.http import HttpResponse

from audit.services import record
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
class NoticeRecordAdmin(admin.ModelAdmin):
    list_display = ("person", "paper_requested", "paper_printed_at", "available_since", "notified_at")
    list_filter = (PaperWaitingFilter, "paper_requested")
    list_select_related = ("person",)
    search_fields = ("person__family_name_kana", "person__given_name_kana")
    raw_id_fields = ("person",)
    readonly_fields = ("items_digest", "available_since", "notified_at", "paper_printed_at")
    actions = ["print_paper"]

    @admin.action(description="選んだ方のお知らせを印刷用PDFにする（印刷済みにする）")
    def print_paper(self, request, queryset):
        day = today()
        records = list(queryset.select_related("person__household__society").order_by("person__household_id"))
        sheets = [notice_items(r.person, today=day) for r in records if r.person.is_eligible_on(day)]
        if not sheets:
            self.message_user(request, "印刷できる方がいません（資格のない方は除きます）。")
            return None
        body = pdf.render(sheets, made_on=day)
        services.mark_paper_printed(person_ids=[r.person_id for r in records])
        record(action="export", request=request, summary=f"資格情報のお知らせ {len(sheets)} 人分を印刷用に出力")
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="shikaku-oshirase-print.pdf"'
        return response
