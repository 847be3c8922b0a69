from django.apps import AppConfig


class EmployerConfig(AppConfig):
    """The employer door (事業所担当者, RULES.md R12): packets out, applications in, 回収."""

    name = "employer"
    verbose_name = "事業所担当者の画面"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .middleware import remember_at_sign_in

        user_logged_in.connect(remember_at_sign_in, dispatch_uid="employer.contact_at_sign_in")
