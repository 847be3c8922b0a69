from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "共通"

    def ready(self):
        from . import formguard, secrets  # noqa: F401 (secrets registers its system check)

        formguard.install()

        from allauth.mfa.signals import authenticator_added

        from .mfa import count_enrolment_as_second_factor

        authenticator_added.connect(count_enrolment_as_second_factor, dispatch_uid="core.enrolment_counts")

        from django.contrib.auth.signals import user_logged_in

        from .middleware import start_idle_clock

        user_logged_in.connect(start_idle_clock, dispatch_uid="core.idle_clock")
