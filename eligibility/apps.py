from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "eligibility"
    verbose_name = "資格・世帯"

    def ready(self) -> None:
        from . import signals

        signals.connect()
