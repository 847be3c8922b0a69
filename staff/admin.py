"""Staff logins' authenticators in the admin: see that one exists, revoke it; never read it.

allauth's own admin shows the stored data (the TOTP secret) and lets anyone with the
permission add or edit another person's authenticator. Here the list and the detail
show only the kind and the dates; nobody adds or edits; revoking (delete, a 管理者's
permission) is audited, and takes the recovery codes with the last device, so the
login sets MFA up again at its next staff page.

allauth's model has English names and no Japanese for them: the admin shows ours.
"""

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import AuditedModelAdmin

# Options set here are not migration state (makemigrations reads the model's own Meta).
Authenticator._meta.verbose_name = _("多要素認証の手段")
Authenticator._meta.verbose_name_plural = _("多要素認証の手段")
AUTHENTICATOR_TYPES = {
    Authenticator.Type.TOTP: _("認証アプリ（TOTP）"),
    Authenticator.Type.WEBAUTHN: _("セキュリティキー（WebAuthn）"),
    Authenticator.Type.RECOVERY_CODES: _("リカバリーコード"),
}


class AuthenticatorTypeFilter(admin.SimpleListFilter):
    title = _("種類")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return list(AUTHENTICATOR_TYPES.items())

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


admin.site.unregister(Authenticator)
admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class StaffEmailAddressAdmin(EmailAddressAdmin):
    """allauth's, with its one action limited to who may change addresses (issue 24: every
    action declares ``permissions=``; 閲覧 runs none)."""

    @admin.action(description=EmailAddressAdmin.make_verified.short_description, permissions=["change"])
    def make_verified(self, request, queryset):
        return super().make_verified(request, queryset)



@admin.register(Authenticator)
class AuthenticatorAdmin(AuditedModelAdmin):
    list_display = ("user_display", "type_display", "created_display", "last_used_display")
    list_filter = (AuthenticatorTypeFilter,)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    # ``data`` (the secret, encrypted or not) is never shown.
    fields = ("user_display", "type_display", "created_display", "last_used_display")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("ログイン"), ordering="user__email")
    def user_display(self, obj):
        return obj.user

    @admin.display(description=_("種類"), ordering="type")
    def type_display(self, obj):
        return AUTHENTICATOR_TYPES.get(obj.type, obj.type)

    @admin.display(description=_("登録日時"), ordering="created_at")
    def created_display(self, obj):
        return obj.created_at

    @admin.display(description=_("最後に使った日時"), ordering="last_used_at")
    def last_used_display(self, obj):
        return obj.last_used_at

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
