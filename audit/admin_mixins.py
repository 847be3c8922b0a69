"""Admin building blocks that write the audit log (reads and changes of personal data)."""

from django.contrib import admin

from core.pagination import CountedPaginator, KeysetChangeList

from .models import AuditEntry
from .services import record


class AuditedModelAdmin(admin.ModelAdmin):
    """Logs every staff view of an object's detail page and every save/delete.

    Change details (before and after) are kept by django-auditlog for registered
    models (audit.apps.TRACKED_MODELS); this adds the *read* and who looked, which
    auditlog does not record. Lists count exactly, or say they are estimating while a
    job counts (core.pagination); the admin's facet counts (one COUNT per filter choice,
    minutes on the ex-officio list) are off.
    """

    paginator = CountedPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_changelist(self, request, **kwargs):
        return KeysetChangeList  # deep pages of a list in id order by keyset, not OFFSET

    def changelist_view(self, request, extra_context=None):
        """A list of personal data read is logged too: its filter and how many rows."""
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) and response.context_data.get("cl")
        if request.method == "GET" and getattr(response, "status_code", 200) == 200 and changelist is not None:
            record(
                action=AuditEntry.Action.VIEW,
                request=request,
                summary=f"{self.opts.verbose_name_plural}の一覧を閲覧",
                details={"list": self.opts.label, "filter": request.GET.urlencode()[:500],
                         "shown": len(changelist.result_list)},
                # The rows listed when counted; an estimate is not a row count.
                row_count=None if getattr(getattr(changelist.paginator, "counted", None), "estimate", False)
                else changelist.result_count,
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and getattr(response, "status_code", 200) == 200:
            obj = self.get_object(request, object_id)
            if obj is not None:
                record(action=AuditEntry.Action.VIEW, request=request, obj=obj, summary=f"{obj._meta.verbose_name}を閲覧")
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(
            action=AuditEntry.Action.CHANGE,
            request=request,
            obj=obj,
            summary=f"{obj._meta.verbose_name}を{'変更' if change else '追加'}",
            details={"fields": list(form.changed_data)},
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in [*formset.new_objects, *(o for o, _fields in formset.changed_objects)]:
            record(
                action=AuditEntry.Action.CHANGE,
                request=request,
                obj=obj,
                summary=f"{obj._meta.verbose_name}を変更",
            )

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, object_id)
        if obj is not None and getattr(response, "status_code", 200) == 200:
            record(action=AuditEntry.Action.VIEW, request=request, obj=obj,
                   summary=f"{obj._meta.verbose_name}の変更履歴を閲覧")
        return response

    def delete_model(self, request, obj):
        self._record_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:  # the bulk "delete selected" action: one entry per object
            self._record_delete(request, obj)
        super().delete_queryset(request, queryset)

    @staticmethod
    def _record_delete(request, obj) -> None:
        record(action=AuditEntry.Action.CHANGE, request=request, obj=obj,
               household=getattr(obj, "audit_household", None), summary=f"{obj._meta.verbose_name}を削除")


class ReadOnlyAdminMixin:
    """No add, change or delete from the admin, whoever asks (rows written by services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
