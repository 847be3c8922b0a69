from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# The roles an entry records besides the staff roles (閲覧/担当者/管理者, Japanese already).
OTHER_ROLES = {"member": _("加入者（本人・家族）"), "system": _("システム（自動処理）"), "staff": _("職員（役割なし）")}


class AuditEntry(models.Model):
    """One access to personal data, or one login. Append-only: nobody edits or deletes."""

    class Action(models.TextChoices):
        VIEW = "view", _("閲覧")
        CHANGE = "change", _("変更")
        EXPORT = "export", _("エクスポート")
        DOWNLOAD = "download", _("ダウンロード")
        IMPORT = "import", _("取込")
        ISSUE = "issue", _("交付")
        LOGIN = "login", _("ログイン")
        LOGIN_FAILED = "login_failed", _("ログイン失敗")
        LOGOUT = "logout", _("ログアウト")

    at = models.DateTimeField("日時", auto_now_add=True, db_index=True)
    # PROTECT: deleting a login must not erase who did what; deactivate it instead.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作者", null=True, blank=True, on_delete=models.PROTECT
    )
    # The role at the time (閲覧/担当者/管理者, or member/system): shown to members,
    # who see which role opened their records, never which person.
    actor_role = models.CharField("役割", max_length=32, blank=True)
    ip_address = models.GenericIPAddressField("接続元", null=True, blank=True)
    action = models.CharField("操作", max_length=16, choices=Action.choices, db_index=True)
    object_type = models.CharField("対象の種類", max_length=64, blank=True)
    object_id = models.CharField("対象ID", max_length=64, blank=True)
    # The household whose members see this entry in their access log: a plain id, never a
    # foreign key — an append-only log never loses its subject, and the log (at the bottom
    # with core) knows no app above it.
    household_id = models.BigIntegerField("世帯ID", null=True, blank=True, db_index=True)
    summary = models.CharField("内容", max_length=255, blank=True)
    details = models.JSONField("詳細", default=dict, blank=True)

    class Meta:
        verbose_name = "閲覧・操作・ログインの記録"
        verbose_name_plural = "閲覧・操作・ログインの記録"
        ordering = ["-at"]
        indexes = [models.Index(fields=["household_id", "-at"], name="audit_audit_househo_dfea34_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.summary}"

    @property
    def role_words(self) -> str:
        """The role in the admin's words (「加入者（本人・家族）」, never the raw "member")."""
        return str(OTHER_ROLES.get(self.actor_role, self.actor_role))

    @property
    def object_type_words(self) -> str:
        """「資格確認書」 for ``certificates.EligibilityCertificate``: the model's name in the admin."""
        names = {model._meta.label: model._meta.verbose_name for model in apps.get_models()}
        return str(names.get(self.object_type, self.object_type))
