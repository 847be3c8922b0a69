from django.contrib import admin

from audit.admin_mixins import ReadOnlyAdminMixin

from .models import Approval


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The history of approvals, read only (managers): they are decided on the staff page 決裁."""

    list_display = ("pk", "kind", "status", "summary", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("kind", "status")
    list_select_related = ("requested_by", "decided_by")
    fields = ("kind", "status", "summary", "target_id", "requested_by", "requested_at", "decided_by", "decided_at",
              "note")
    readonly_fields = fields
