from django.apps import AppConfig


class ExportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "exports"
    verbose_name = "CSV出力"

    def ready(self):
        from . import audit_log, ex_officio  # noqa: F401  (register the exporters)
