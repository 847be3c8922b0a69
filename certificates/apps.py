from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "資格確認書"

    def ready(self):
        from audit.tracking import track
        from eligibility.signals import forget_dashboards

        from .models import EligibilityCertificate, IssueBatch, ReissueRequest

        for model in (EligibilityCertificate, ReissueRequest, IssueBatch):
            track(model)

        # The member's dashboard shows each person's 資格確認書 and open request.
        forget_dashboards(EligibilityCertificate, by="person")
        forget_dashboards(ReissueRequest, by="person")
