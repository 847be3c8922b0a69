"""The audit log in the admin: searchable and filterable, never editable.

Add, change and delete are refused to everyone, superusers included; reading
needs ``audit.view_auditentry`` (the 管理者 role). django-auditlog's change history
(before/after values) gets the same read-only treatment.
"""

from auditlog.admin import LogEntryAdmin as AuditlogLogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin

from core.pagination import EstimatedCountPaginator

from . import admin_mixins
from .models import AuditEntry


class ReadOnlyAdminMixin(admin_mixins.ReadOnlyAdminMixin):
    """Never editable, and no bulk actions either."""

    actions = None


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "action", "actor", "actor_role", "ip_address", "object_type", "object_id", "household_id", "summary")
    list_filter = ("action", "actor_role", "object_type", ("at", admin.DateFieldListFilter))
    # 記号・番号 are deliberately not searchable here (a search puts its terms in the URL).
    search_fields = ("summary", "actor__email", "=ip_address", "=object_id", "=household__id", "details__login")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fields = ("at", "action", "actor", "actor_role", "ip_address", "object_type", "object_id", "household", "summary", "details")
    readonly_fields = fields


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdminMixin, AuditlogLogEntryAdmin):
    # "changes" is left out of search: values typed there would end up in URLs.
    search_fields = ("object_repr", "actor__email", "=remote_addr", "=object_id")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
