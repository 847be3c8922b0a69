from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "資格確認書"

    def ready(self):
        # The member dashboard (eligibility, a lower app) asks this app for each
        # person's 資格確認書 and R6 basis through a registered provider.
        from eligibility import proofs

        from . import member_proofs

        proofs.register(member_proofs.proofs)
