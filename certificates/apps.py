from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "資格確認書"

    def ready(self):
        # The member dashboard (eligibility, a lower app) asks this app for each
        # person's 資格確認書 and R6 basis through a registered provider.
        from eligibility import proofs
        from eligibility.demo_data import seeded

        from . import member_proofs
        from .demo import add_demo_certificates

        proofs.register(member_proofs.proofs)
        # seed_demo's society gets a few certificates, so the ex-officio list shows renewals.
        seeded.connect(add_demo_certificates, dispatch_uid="certificates.demo")
