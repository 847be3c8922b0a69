"""Staff screens in the admin: the ex-officio list (職権交付の対象者一覧) with its CSV
export and batch actions, certificates, batches and requests."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audit.admin_mixins import AuditedModelAdmin, ReadOnlyAdminMixin
from audit.services import record
from eligibility import rules
from eligibility.admin_search import FoldedNameSearchMixin
from eligibility.selectors import today
from eligibility.status_labels import STATUS_LABELS

from . import selectors, services
from .admin_extras import (
    snapshot_rows,  # importing it registers the print files and the person inline
)
from .models import (
    Basis,
    BatchItem,
    Collection,
    EligibilityCertificate,
    ExOfficioCandidate,
    ExOfficioProposal,
    IllegalTransition,
    IssueBatch,
    Packet,
    PacketItem,
    ReissueRequest,
)

CSV_ENCODINGS = {"utf8": "utf-8", "cp932": "cp932"}


class BasisFilter(admin.SimpleListFilter):
    title = "交付の根拠"
    parameter_name = "basis"

    def lookups(self, request, model_admin):
        return [(b.value, b.label) for b in Basis if b != Basis.APPLICATION]

    def queryset(self, request, queryset):
        return selectors.filter_candidates(queryset, "basis", self.value(), today=today()) if self.value() else queryset


class NewSinceLastBatchFilter(admin.SimpleListFilter):
    """The month's proposal (``services.propose_monthly_run``): who is new since the last batch."""

    title = "前回のバッチ以降"
    parameter_name = "new"

    def lookups(self, request, model_admin):
        return [("since_last_batch", "前回のバッチ以降に対象になった人")]

    def queryset(self, request, queryset):
        return selectors.filter_candidates(queryset, "new", self.value(), today=today()) if self.value() else queryset


class StatusFilter(admin.SimpleListFilter):
    title = "マイナ保険証の状況"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        # Bases 4 and 5 (個人番号未登録, 要配慮者's renewal) list people in any R5 status.
        return [(s.value, STATUS_LABELS[s.value]) for s in rules.Status]

    def queryset(self, request, queryset):
        return selectors.filter_candidates(queryset, "status", self.value(), today=today()) if self.value() else queryset


class AgeBandFilter(admin.SimpleListFilter):
    title = "年齢"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [("0-5", "0〜5歳"), ("6-69", "6〜69歳"), ("70-74", "70〜74歳"), ("75-", "75歳以上")]

    def queryset(self, request, queryset):
        return selectors.filter_candidates(queryset, "age", self.value(), today=today()) if self.value() else queryset


@admin.register(ExOfficioCandidate)
class ExOfficioCandidateAdmin(FoldedNameSearchMixin, ReadOnlyAdminMixin, AuditedModelAdmin):
    """Exactly the people of R6 as of today, with the basis of each row."""

    list_display = ("name", "name_kana", "symbol_number", "relationship", "birth_date", "age", "employer",
                    "basis_label", "status_label", "eligible_from")
    # Every employer (a few hundred at most), not only the listed ones: those would need the whole list worked out.
    list_filter = (BasisFilter, NewSinceLastBatchFilter, "household__employer", StatusFilter,
                   AgeBandFilter)
    search_fields = ("search_text",)  # names and kana, folded (core.kana)
    # 記号・番号 are never searched here: a GET search would put them in the URL and the
    # access log (R9). The person list's 記号・番号 lookup is a POST form.
    search_help_text = "氏名・カナで検索（記号・番号で探すときは「加入者」の画面から）"
    actions = ["issue_selected", "export_selected_utf8", "export_selected_cp932"]
    change_list_template = "certificates/admin/ex_officio_change_list.html"
    list_per_page = 100

    def get_queryset(self, request):
        return selectors.ex_officio_candidates(today=today())


    # Read-only list: no add, change or delete here.

    def has_view_permission(self, request, obj=None):
        user = request.user
        return user.is_active and user.is_staff and any(
            user.has_perm(f"certificates.{p}") for p in ("view_eligibilitycertificate", "issue_certificate",
                                                         "export_list")
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_issue_permission(self, request):
        return request.user.has_perm("certificates.issue_certificate")

    def has_export_permission(self, request):
        return request.user.has_perm("certificates.export_list")

    @admin.display(description="記号・番号・枝番")
    def symbol_number(self, obj):
        return f"{obj.household.symbol}・{obj.household.number}・{obj.branch_number}"

    @admin.display(description="年齢")
    def age(self, obj):
        return rules.age_on(obj.birth_date, today())

    @admin.display(description="事業所")
    def employer(self, obj):
        return obj.household.employer or "—"

    @admin.display(description="交付の根拠")
    def basis_label(self, obj):
        return Basis(obj.basis).label

    @admin.display(description="マイナ保険証の状況")
    def status_label(self, obj):
        return STATUS_LABELS[obj.status]

    # --- actions ---------------------------------------------------------------------

    @admin.action(description="選択した人に資格確認書を交付（バッチ開始）", permissions=["issue"])
    def issue_selected(self, request, queryset):
        batch = services.batch_start(candidates=queryset, started_by=request.user, request=request,
                                     filter_description="一覧から選択した人")  # how many: the batch's 対象人数, counted as it starts
        return redirect("certificates:batch_detail", batch.pk)

    @admin.action(description="選択した人をCSVで出力（UTF-8・Excel用BOM付き）", permissions=["export"])
    def export_selected_utf8(self, request, queryset):
        return self._csv(request, queryset, "utf8")

    @admin.action(description="選択した人をCSVで出力（Shift_JIS / CP932）", permissions=["export"])
    def export_selected_cp932(self, request, queryset):
        return self._csv(request, queryset, "cp932")

    # --- "everyone matching the current filter" ---------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [path("issue-all/", self.admin_site.admin_view(self.issue_all_view), name="{}_{}_issue_all".format(*info)), path("export/<str:encoding>/", self.admin_site.admin_view(self.export_all_view), name="{}_{}_export".format(*info)), *super().get_urls()]

    def _matching(self, request):
        """The rows for the filters and search in the query string, by the selector the CSV
        export reads them with too. A filter it cannot read raises ``UnreadableFilter``."""
        return selectors.ex_officio_candidates(today=today(), filters=selectors.ex_officio_filters(request.GET))

    def _back_to_list(self, request):
        messages.error(request, "絞り込みの条件が読み取れません。一覧から選び直してください。")
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    @staticmethod
    def _describe(changelist) -> str:
        """The list's filter in the words of its sidebar: 「交付の根拠：職権①…、年齢：70〜74歳」."""
        parts = []
        for spec in changelist.filter_specs:
            if spec.used_parameters:
                shown = next((c["display"] for c in spec.choices(changelist) if c.get("selected")), "")
                parts.append(f"{spec.title}：{shown}")
        if changelist.query:
            parts.append(f"検索：{changelist.query}")
        return "、".join(parts) or "条件なし（全員）"

    def issue_all_view(self, request: HttpRequest):
        if not (self.has_view_permission(request) and self.has_issue_permission(request)):
            raise PermissionDenied
        try:
            queryset = self._matching(request)
            changelist = self.get_changelist_instance(request)  # its count and its filters' words
        except (selectors.UnreadableFilter, IncorrectLookupParameters):
            return self._back_to_list(request)
        if request.method == "POST":
            batch = services.batch_start(
                candidates=queryset, started_by=request.user, request=request,
                filter_description=self._describe(changelist), filter_query=request.GET.urlencode(),
            )
            if batch.status == batch.Status.AWAITING:
                messages.success(request, f"{batch.total} 人の交付について決裁を依頼しました。別の職員が承認すると始まります。")
            else:
                messages.success(request, f"{batch.total} 人の交付を開始しました。")
            return redirect("certificates:batch_detail", batch.pk)
        # Staff act on this number: exact (now, or as of a job's count a moment ago), never an estimate.
        context = {**self.admin_site.each_context(request), "opts": self.opts, "counted": changelist.paginator.counted,
                   "description": self._describe(changelist), "title": "条件に合う全員に交付"}
        return TemplateResponse(request, "certificates/admin/issue_all_confirm.html", context)

    def export_all_view(self, request: HttpRequest, encoding: str):
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        try:
            queryset = self._matching(request)
        except selectors.UnreadableFilter:
            return self._back_to_list(request)
        return self._csv(request, queryset, encoding)

    def _csv(self, request, queryset, encoding: str):
        """A job writes the file (exports.ex_officio): staff go to its page, with the list's filter
        (and the rows they selected)."""
        if encoding not in CSV_ENCODINGS:
            raise PermissionDenied
        query = request.GET.copy()
        if request.method == "POST" and request.POST.get("select_across", "0") == "0":
            query.setlist("ids", [str(pk) for pk in queryset.values_list("pk", flat=True)])
        return redirect(f"{reverse('staff:exports:start', args=['ex_officio', encoding])}?{query.urlencode()}")


class CollectionListFilter(admin.SimpleListFilter):
    """R12: a leaver's certificate the 事業所 has not yet recorded collected."""

    title = "回収（退職者の資格確認書）"
    parameter_name = "collection"

    def lookups(self, request, model_admin):
        return [("overdue", f"回収待ち（{settings.KENPO_COLLECTION_DAYS}日を過ぎたもの）"), ("waiting", "回収待ち（すべて）")]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(pk__in=services.packets.collections_overdue().values("pk"))
        if self.value() == "waiting":
            return queryset.filter(pk__in=services.packets.collections_waiting().values("pk"))
        return queryset


@admin.register(EligibilityCertificate)
class EligibilityCertificateAdmin(FoldedNameSearchMixin, ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ("serial", "person", "basis", "status", "issued_on", "valid_until", "delivery_route", "batch",
                    "pdf_link")
    list_filter = ("status", "basis", "delivery_route", "issued_on", ("render_error", admin.EmptyFieldListFilter),
                   CollectionListFilter, "employer")
    name_search_field = "person__search_text"
    search_fields = ("serial", "person__search_text")
    search_help_text = "交付番号・氏名・カナで検索"
    list_select_related = ("person", "batch")
    actions = ["mark_printed", "mark_mailed", "void_selected"]
    readonly_fields = [f.name for f in EligibilityCertificate._meta.fields if f.name != "snapshot"] + [
        "pdf_link", "snapshot_table"]

    @admin.display(description="印字内容")
    def snapshot_table(self, obj):
        """The printed fields as a labelled table, in print order, dates in 和暦."""
        return render_to_string("certificates/admin/printed_data.html", {"rows": snapshot_rows(obj.snapshot)})

    @admin.display(description="PDF")
    def pdf_link(self, obj):
        if obj.status == EligibilityCertificate.Status.VOID:
            return "—（無効）"
        return format_html('<a href="{}">PDF</a>', reverse("certificates:certificate_pdf", args=[obj.pk]))


    def has_issue_permission(self, request):
        return request.user.has_perm("certificates.issue_certificate")

    def _move(self, request, queryset, *, from_status, to, void_reason=""):
        if not request.user.has_perm("certificates.issue_certificate"):
            raise PermissionDenied
        moved = 0
        try:
            for status in ([from_status] if from_status else [s for s in EligibilityCertificate.ALLOWED
                                                               if to in EligibilityCertificate.ALLOWED[s]]):
                moved += services.certificates_transition(queryset=queryset, from_status=status, to=to,
                                                          by=request.user, void_reason=void_reason)
        except IllegalTransition as exc:
            self.message_user(request, f"その変更はできません：{exc}", messages.ERROR)
            return
        record(action="change", request=request, summary=f"資格確認書 {moved} 通を {to} に変更")
        self.message_user(request, f"{moved} 通を更新しました（対象外の状態のものは変更していません）。")

    @admin.action(description="印刷済みにする（作成済みのもの）", permissions=["issue"])
    def mark_printed(self, request, queryset):
        self._move(request, queryset, from_status="rendered", to="printed")

    @admin.action(description="発送済みにする（印刷済みのもの）", permissions=["issue"])
    def mark_mailed(self, request, queryset):
        self._move(request, queryset, from_status="printed", to="mailed")

    @admin.action(description="無効にする（理由を選んで確認）", permissions=["issue"])
    def void_selected(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True)[:500])
        return redirect(f"{reverse('certificates:certificate_void')}?ids={ids}")


@admin.register(ExOfficioProposal)
class ExOfficioProposalAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ("__str__", "created_at", "day", "since_batch", "total", "open_list")

    @admin.display(description="一覧")
    def open_list(self, obj):
        url = reverse("admin:certificates_exofficiocandidate_changelist") + "?new=since_last_batch"
        return format_html('<a href="{}">今の一覧で確認して交付</a>', url)


@admin.register(IssueBatch)
class IssueBatchAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ("__str__", "started_at", "started_by", "status", "total", "rendered_count", "failed_count",
                    "progress_link")
    list_filter = ("status",)


    @admin.display(description="進み具合・印刷用ファイル")
    def progress_link(self, obj):
        return format_html('<a href="{}">開く</a>', reverse("certificates:batch_detail", args=[obj.pk]))


@admin.register(ReissueRequest)
class ReissueRequestAdmin(FoldedNameSearchMixin, ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ("__str__", "person", "reason", "status", "created_at", "via_employer", "review_link")
    list_filter = ("status", "reason", ("via_employer", admin.EmptyFieldListFilter))
    name_search_field = "person__search_text"
    search_fields = ("person__search_text",)
    search_help_text = "氏名・カナで検索"
    list_select_related = ("person",)
    readonly_fields = [f.name for f in ReissueRequest._meta.fields]


    @admin.display(description="審査")
    def review_link(self, obj):
        return format_html('<a href="{}">審査画面</a>', reverse("certificates:review_detail", args=[obj.pk]))


@admin.register(BatchItem)
class BatchItemAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """One person of a batch; failed ones (with their reason) are retried from the batch page."""

    list_display = ("__str__", "batch_link", "person", "state", "error")
    list_filter = ("state",)
    list_select_related = ("batch", "person")


    @admin.display(description="交付バッチ（再実行はこちら）")
    def batch_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("certificates:batch_detail", args=[obj.batch_id]), obj.batch)


# --- The employer route (R12): what is still out per 事業所, returns, 回収 -------------------


@admin.register(Packet)
class PacketAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Packets per 事業所 with what is still unconfirmed (未確認), handed over and returned."""

    list_display = ("__str__", "employer", "created_at", "total", "still_out", "handed", "returned", "reminded_at")
    list_filter = ("employer",)
    list_select_related = ("employer",)

    def get_queryset(self, request):
        return services.packets.with_counts(super().get_queryset(request))

    @admin.display(description="件数")
    def total(self, obj):
        return obj.total

    @admin.display(description="未確認")
    def still_out(self, obj):
        return obj.still_out

    @admin.display(description="手渡し済み")
    def handed(self, obj):
        return obj.handed

    @admin.display(description="返送")
    def returned(self, obj):
        return obj.returned


@admin.register(PacketItem)
class PacketItemAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Each item and its state; returned ones are re-routed to the member's address."""

    list_display = ("certificate", "notice_person", "packet", "employer", "state", "return_reason", "recorded_at")
    list_filter = ("state", "return_reason", "packet__employer")
    list_select_related = ("certificate", "notice_person", "packet__employer")
    actions = ["repost"]

    @admin.display(description="事業所")
    def employer(self, obj):
        return obj.packet.employer

    @admin.action(description="返送された資格確認書を本人へ郵送に切り替える", permissions=["repost"])
    def repost(self, request, queryset):
        moved = services.packets.items_repost(item_ids=queryset.values_list("pk", flat=True), by=request.user,
                                              request=request)
        messages.success(request, f"{moved}件を本人あての郵送に切り替えました。")

    def has_repost_permission(self, request):
        return request.user.has_perm("certificates.change_packetitem")


@admin.register(Collection)
class CollectionAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ("certificate", "outcome", "recorded_at")
    list_filter = ("outcome", "certificate__employer")
    list_select_related = ("certificate",)

