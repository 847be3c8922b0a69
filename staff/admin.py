"""Staff logins' authenticators in the admin: see that one exists, revoke it; never read it.

allauth's own admin shows the stored data (the TOTP secret) and lets anyone with the
permission add or edit another person's authenticator. Here the list and the detail
show only the kind and the dates; nobody adds or edits; revoking (delete, a 管理者's
permission) is audited, and takes the recovery codes with the last device, so the
login sets MFA up again at its next staff page.
"""

from allauth.mfa.models import Authenticator
from django.contrib import admin

from audit.admin_mixins import AuditedModelAdmin

admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(AuditedModelAdmin):
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    # ``data`` (the secret, encrypted or not) is never shown.
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._forget_orphaned_recovery_codes([obj.user_id])

    def delete_queryset(self, request, queryset):
        users = list(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        self._forget_orphaned_recovery_codes(users)

    @staticmethod
    def _forget_orphaned_recovery_codes(user_ids) -> None:
        devices = Authenticator.objects.filter(user_id__in=user_ids).exclude(type=Authenticator.Type.RECOVERY_CODES)
        Authenticator.objects.filter(user_id__in=user_ids, type=Authenticator.Type.RECOVERY_CODES).exclude(
            user_id__in=devices.values("user_id")
        ).delete()
