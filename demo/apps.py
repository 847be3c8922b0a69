from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo society (``manage.py seed_demo``, for bin/demo and the benchmarks), at the top:
    it writes each domain app's demo rows by calling that app (eligibility's households and
    logins, certificates' renewals) — no signal between them."""

    name = "demo"
    verbose_name = "デモデータ"
