"""Which models django-auditlog keeps every change of, with before/after values: each app
names its own models, by class, in its ``AppConfig.ready`` (``track(Person)``), so the
log at the bottom never names an app above it."""

from auditlog.registry import auditlog


def track(model, **options) -> None:
    """Keep every change of ``model`` (options: auditlog's, e.g. ``exclude_fields``)."""
    if not auditlog.contains(model):
        auditlog.register(model, **options)
