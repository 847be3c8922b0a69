from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from audit.admin_mixins import ReadOnlyAdminMixin

from .models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The history of imports, read only: uploads and confirmations happen on the import pages."""

    list_display = ("pk", "kind", "status", "row_count", "error_count", "uploaded_at", "uploaded_by", "confirmed_at",
                    "preview_link")
    list_filter = ("kind", "status")
    list_select_related = ("uploaded_by",)
    fields = ("kind", "status", "failure", "encoding", "row_count", "error_count", "warning_count", "counts", "kinds",
              "population",
              "uploaded_at", "uploaded_by", "confirmed_at", "confirmed_by", "started_at", "finished_at", "seconds",
              "preview_link")
    readonly_fields = fields

    @admin.display(description="詳細")
    def preview_link(self, run: ImportRun) -> str:
        return format_html('<a href="{}">取込の画面</a>', reverse("staff:imports:detail", args=[run.pk]))

