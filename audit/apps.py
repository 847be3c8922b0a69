from auditlog.apps import AuditlogConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Models whose every change is kept with before/after values by django-auditlog.
# Every label must name an installed model: a typo stops the start-up (LookupError)
# rather than silently leaving a model's changes unrecorded.
TRACKED_MODELS: dict[str, dict] = {
    "eligibility.Society": {},
    "eligibility.Employer": {},
    "eligibility.Household": {},
    "eligibility.Person": {},
    "eligibility.CardFacts": {"exclude_fields": ["updated_at"]},
    "eligibility.MemberLink": {},
    "eligibility.ActivationCode": {"exclude_fields": ["code_hash"]},
    "certificates.EligibilityCertificate": {},
    "certificates.ReissueRequest": {},
    "certificates.IssueBatch": {},
    "auth.User": {"exclude_fields": ["password", "last_login"]},
    "auth.Group": {"m2m_fields": ["permissions"]},
}


class AuditConfig(AppConfig):
    default = True  # "audit" in INSTALLED_APPS is this one (apps.py declares two)
    name = "audit"
    verbose_name = "監査ログ（閲覧・操作・ログイン）"

    def ready(self):
        from auditlog.registry import auditlog
        from django.apps import apps

        for label, options in TRACKED_MODELS.items():
            model = apps.get_model(label)
            if not auditlog.contains(model):
                auditlog.register(model, **options)

        from . import signals  # noqa: F401  (connects the login receivers)


class ChangeHistoryConfig(AuditlogConfig):
    """django-auditlog (the before/after values of every change) under a name of its own
    in the admin menu: its own 「監査ログ」 sat beside ours, two entries of one name."""

    default = False
    verbose_name = _("変更履歴（変更前・変更後の値）")
