"""Admin building blocks that write the audit log (reads and changes of personal data)."""

from django.contrib import admin

from .services import record


class AuditedModelAdmin(admin.ModelAdmin):
    """Logs every staff view of an object's detail page and every save/delete.

    Change details (before and after) are kept by django-auditlog for registered
    models; this adds the *read* and who looked, which auditlog does not record.
    """

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and getattr(response, "status_code", 200) == 200:
            obj = self.get_object(request, object_id)
            if obj is not None:
                record(action="view", request=request, obj=obj, summary=f"{obj._meta.verbose_name}を閲覧")
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(
            action="change",
            request=request,
            obj=obj,
            summary=f"{obj._meta.verbose_name}を{'変更' if change else '追加'}",
            details={"fields": list(form.changed_data)},
        )
