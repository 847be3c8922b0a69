"""The clerk's certificate tools in the admin: print files (the day's and the batches'),
the certificates on a person's page, and a certificate's printed data as a table."""

from datetime import date

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from audit.admin_mixins import AuditedModelAdmin, ReadOnlyAdminMixin
from eligibility.models import Person

from .models import EligibilityCertificate, PrintFile

# The snapshot's keys in print order, with the labels printed on the certificate (R8).
SNAPSHOT_LABELS = [
    ("serial", "交付番号"), ("name", "氏名"), ("name_kana", "氏名（カナ）"), ("birth_date", "生年月日"),
    ("sex", "性別"), ("symbol", "記号"), ("number", "番号"), ("branch_number", "枝番"),
    ("is_insured_person", "本人・家族"), ("insured_name", "被保険者氏名"), ("employer_name", "事業所名称"),
    ("eligible_from", "資格取得年月日"), ("issued_on", "交付年月日"), ("valid_until", "有効期限"),
    ("copay_ratio", "一部負担金の割合"), ("copay_from", "一部負担金の割合の適用開始"),
    ("insurer_number", "保険者番号"), ("insurer_name", "保険者名称"), ("insurer_address", "保険者所在地"),
    ("insurer_phone", "保険者電話番号"), ("delivery_route", "送付方法"), ("voluntary_continuation", "任意継続"),
    ("postal_code", "送付先郵便番号"), ("address", "送付先住所"),
]
DATE_KEYS = {"birth_date", "eligible_from", "issued_on", "valid_until", "copay_from"}
ROUTES = {"employer": "事業所経由", "post": "本人へ直接郵送"}


def snapshot_rows(snapshot: dict) -> list[dict]:
    """The printed data as labelled rows (``date`` rows are shown in 和暦), skipping empty ones."""
    rows = []
    for key, label in SNAPSHOT_LABELS:
        if key not in snapshot or snapshot[key] in ("", None):
            continue
        value = snapshot[key]
        if key == "is_insured_person":
            value = "本人（被保険者）" if value else "家族（被扶養者）"
        elif key == "voluntary_continuation":
            value = "はい" if value else "いいえ"
        elif key == "delivery_route":
            value = ROUTES.get(value, value)
        elif key in DATE_KEYS:
            value = date.fromisoformat(value)
        rows.append({"label": label, "value": value, "is_date": key in DATE_KEYS})
    return rows


@admin.register(PrintFile)
class PrintFileAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Every print file: a batch's, and the day's files of certificates issued one at a time.
    A failed render shows its error and attempts here (the task retries by itself)."""

    list_display = ("__str__", "batch", "day", "route", "certificate_count", "pages", "state", "download")
    list_filter = (("batch", admin.EmptyFieldListFilter), "route", "day")
    exclude = ("plan", "page_of")
    change_list_template = "certificates/admin/print_file_change_list.html"

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and request.user.has_perm("certificates.download_pdf")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description="状態")
    def state(self, obj):
        if obj.rendered_at:
            return "作成済み"
        if obj.error:
            return format_html("作成に失敗（{}回目）：{}　自動で再実行します", obj.attempts, obj.error)
        return "作成中"

    @admin.display(description="PDF")
    def download(self, obj):
        if not obj.pdf:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("certificates:print_file_pdf", args=[obj.pk]), "ダウンロード")


class PersonCertificatesInline(admin.TabularInline):
    """On a person's page: their certificates, and the way to the clerk's tools."""

    model = EligibilityCertificate
    fk_name = "person"
    fields = ("serial", "status", "issued_on", "valid_until", "void_reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "資格確認書（交付・再印刷・無効・紙の申請は「資格確認書の操作」から）"
    template = "certificates/admin/person_certificates_inline.html"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-pk")


# The person's page belongs to eligibility (a lower app): certificates adds its inline there.
_person_admin = admin.site._registry.get(Person)
if _person_admin is not None and PersonCertificatesInline not in _person_admin.inlines:
    _person_admin.inlines = [*_person_admin.inlines, PersonCertificatesInline]
