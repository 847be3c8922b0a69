from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "共通"

    def ready(self):
        from . import formguard, secrets  # noqa: F401 (secrets registers its system check)

        formguard.install()
