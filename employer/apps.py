from django.apps import AppConfig


class EmployerConfig(AppConfig):
    """The employer door (事業所担当者, RULES.md R12): packets out, applications in, 回収."""

    name = "employer"
    verbose_name = "事業所担当者の画面"
