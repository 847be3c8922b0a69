from django.apps import AppConfig

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
