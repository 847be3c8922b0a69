from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EligibilityConfig(AppConfig):
    name = "eligibility"
    verbose_name = "資格・世帯"

    def ready(self) -> None:
        from audit.tracking import track

        from . import contact, signals
        from .models import (
            ActivationCode,
            CardFacts,
            Employer,
            Household,
            MemberLink,
            Person,
            Society,
        )

        for model in (Society, Employer, Household, Person, MemberLink):
            track(model)
        track(CardFacts, exclude_fields=["updated_at"])
        track(ActivationCode, exclude_fields=["code_hash"])
        signals.connect()
        contact.connect()
        post_migrate.connect(_site_from_settings, sender=self)


def _site_from_settings(using="default", **kwargs) -> None:
    """The Site's name and domain from SITE_URL, after every migrate: allauth's e-mails
    name the site from it, and a never-set Site says example.com."""
    from urllib.parse import urlparse

    from django.conf import settings
    from django.contrib.sites.models import Site

    domain = urlparse(settings.SITE_URL).netloc or "localhost"
    Site.objects.using(using).update_or_create(pk=settings.SITE_ID, defaults={"domain": domain, "name": "けんぽポータル"})
