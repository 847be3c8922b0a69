from django.apps import AppConfig


class AuditConfig(AppConfig):
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
