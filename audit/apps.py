from auditlog.apps import AuditlogConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    default = True  # "audit" in INSTALLED_APPS is this one (apps.py declares two)
    name = "audit"
    verbose_name = "監査ログ（閲覧・操作・ログイン）"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from . import signals  # noqa: F401  (connects the login receivers)
        from .tracking import track

        # Logins and roles; every other app tracks its own models (audit.tracking).
        track(get_user_model(), exclude_fields=["password", "last_login"])
        track(Group, m2m_fields=["permissions"])


class ChangeHistoryConfig(AuditlogConfig):
    """django-auditlog (the before/after values of every change) under a name of its own
    in the admin menu: its own 「監査ログ」 sat beside ours, two entries of one name."""

    default = False
    verbose_name = _("変更履歴（変更前・変更後の値）")
