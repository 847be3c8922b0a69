"""The audit log in the admin: searchable and filterable, never editable.

Add, change and delete are refused to everyone, superusers included; reading
needs ``audit.view_auditentry`` (the 管理者 role). django-auditlog's change history
(before/after values) gets the same read-only treatment.
"""

from auditlog.admin import LogEntryAdmin as AuditlogLogEntryAdmin
from auditlog.filters import CIDFilter, ResourceTypeFilter
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.pagination import CountedPaginator, KeysetChangeList

from . import admin_mixins
from .models import OTHER_ROLES, AuditEntry


class ReadOnlyAdminMixin(admin_mixins.ReadOnlyAdminMixin):
    """Never editable, and no bulk actions either."""

    actions = None


class RoleListFilter(admin.SimpleListFilter):
    title = gettext_lazy("役割")
    parameter_name = "actor_role"

    def lookups(self, request, model_admin):
        return [(role, role) for role in ("管理者", "担当者", "閲覧")] + list(OTHER_ROLES.items())

    def queryset(self, request, queryset):
        return queryset.filter(actor_role=self.value()) if self.value() else queryset


class ObjectTypeListFilter(admin.SimpleListFilter):
    """Every model by its name (no DISTINCT over the whole log to find the choices)."""

    title = gettext_lazy("対象の種類")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        return sorted(((m._meta.label, str(m._meta.verbose_name)) for m in apps.get_models()), key=lambda c: c[1])

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "action", "actor", "role", "ip_address", "object_kind", "object_id", "household_no",
                    "summary")
    list_filter = ("action", RoleListFilter, ObjectTypeListFilter, ("at", admin.DateFieldListFilter))
    # 記号・番号 are deliberately not searchable here (a search puts its terms in the URL).
    search_fields = ("summary", "actor__email", "=ip_address", "=object_id", "=household_id", "details__login")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    paginator = CountedPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = ("at", "action", "actor", "role", "ip_address", "object_kind", "object_id", "household_id", "summary",
              "details")
    readonly_fields = fields

    def get_changelist(self, request, **kwargs):
        return KeysetChangeList

    @admin.display(description=gettext_lazy("役割"), ordering="actor_role")
    def role(self, obj):
        return obj.role_words

    @admin.display(description=gettext_lazy("対象の種類"), ordering="object_type")
    def object_kind(self, obj):
        return obj.object_type_words

    @admin.display(description=gettext_lazy("世帯ID"), ordering="household_id")
    def household_no(self, obj):
        return obj.household_id


admin.site.unregister(LogEntry)


def _field_label(log_entry, name: str) -> str:
    """A changed field by the name the admin shows for it (a relation by its model's)."""
    model = log_entry.content_type.model_class()
    try:
        field = model._meta.get_field(name) if model else None
    except FieldDoesNotExist:
        field = None
    if field is None:
        return name
    if hasattr(field, "verbose_name"):
        return str(field.verbose_name)
    return str(field.related_model._meta.verbose_name_plural)


class ResourceTypeListFilter(ResourceTypeFilter):
    title = gettext_lazy("対象の種類")

    def queryset(self, request, queryset):
        # auditlog's own filter passes any text to an integer column: a 500 whose log line
        # carried the raw value (issue 24, 7). Not a number: the admin's usual "?e=1".
        value = self.value()
        if value is not None and not (value.isascii() and value.isdigit()):
            raise IncorrectLookupParameters("resource_type is not a number")
        return super().queryset(request, queryset)


class CorrelationListFilter(CIDFilter):
    title = gettext_lazy("関連ID")


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdminMixin, admin_mixins.AuditedModelAdmin, AuditlogLogEntryAdmin):
    """django-auditlog's history (before/after values of personal data): 管理者's reads are audited."""

    # "changes" is left out of search: values typed there would end up in URLs.
    search_fields = ("object_repr", "actor__email", "=remote_addr", "=object_id")
    list_filter = ("action", ResourceTypeListFilter, CorrelationListFilter)
    readonly_fields = ["created", "resource_url", "action", "user_url", "msg", "cid_url"]
    fieldsets = [
        (None, {"fields": ["created", "user_url", "resource_url", "cid_url"]}),
        (gettext_lazy("変更内容"), {"fields": ["action", "msg"]}),
    ]
    paginator = CountedPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=gettext_lazy("変更内容"))
    def msg_short(self, obj):
        """「3項目を変更：交付番号、PDF、状態」: the fields by their names in the admin's language."""
        if obj.action in (LogEntry.Action.DELETE, LogEntry.Action.ACCESS):
            return ""
        names = [_field_label(obj, name) for name in obj.changes_dict]
        shown = "、".join(names[:8]) + ("…" if len(names) > 8 else "")
        return _("%(count)d項目を変更：%(fields)s") % {"count": len(names), "fields": shown}

    @admin.display(description=gettext_lazy("関連ID"))
    def cid_url(self, obj):
        return super().cid_url(obj)
