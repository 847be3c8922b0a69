"""Secrets a production site must not run with (issue 24, 10).

``check --deploy`` accepted the placeholder of ``.env.example`` (62 characters, many
distinct ones): Django only asks for 50 characters, 5 distinct, and no
``django-insecure-`` prefix. Here a secret is refused when it is one of the
placeholders this project ever published, reads like one (``change-me``, ``insecure``
…), or is short. The same goes for each ``KENPO_MFA_ENCRYPTION_KEY``, which encrypts
the staff's TOTP secrets.

Refused at start: ``wsgi.py``/``asgi.py`` call ``refuse_weak_secrets()`` in
production before serving, and the system check below (every ``manage.py`` command
that runs checks: ``check``, ``migrate``, ``runserver``) reports the same as an error.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# Every placeholder this project shipped (.env.example, the development default, the image build's).
PLACEHOLDERS = frozenset({
    "change-me-to-a-long-random-string-of-at-least-50-characters",
    "dev-only-insecure-key-change-me",
    "build-only",
})
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "insecure", "placeholder", "example", "secret-key")
SECRET_KEY_MIN_LENGTH = 50
MFA_KEY_MIN_LENGTH = 32


def weakness(secret: str, *, min_length: int) -> str | None:
    """Why ``secret`` is not fit for production, or None."""
    if secret in PLACEHOLDERS or any(word in secret.lower() for word in PLACEHOLDER_WORDS):
        return "a published placeholder"
    if len(secret) < min_length:
        return f"shorter than {min_length} characters"
    if len(set(secret)) < 10:
        return "fewer than 10 distinct characters"
    return None


def weak_secrets() -> list[str]:
    """The production secrets that are weak, each named with its reason (never its value)."""
    found = []
    for name, values, min_length in (
        ("DJANGO_SECRET_KEY", [settings.SECRET_KEY], SECRET_KEY_MIN_LENGTH),
        ("DJANGO_SECRET_KEY_FALLBACKS", settings.SECRET_KEY_FALLBACKS, SECRET_KEY_MIN_LENGTH),
        ("KENPO_MFA_ENCRYPTION_KEY", settings.KENPO_MFA_ENCRYPTION_KEYS, MFA_KEY_MIN_LENGTH),
    ):
        for position, value in enumerate(values, start=1):
            reason = weakness(value, min_length=min_length)
            if reason:
                found.append(f"{name} (#{position}) is {reason}")
    return found


def refuse_weak_secrets() -> None:
    """Raise in production when a secret is weak: the server does not start."""
    if settings.PRODUCTION and (found := weak_secrets()):
        raise ImproperlyConfigured("Refusing to start: " + "; ".join(found)
                                   + ". Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'")


@register(Tags.security)
def check_secrets(app_configs, **kwargs):
    if not settings.PRODUCTION:
        return []
    return [Error(problem, hint="python -c 'import secrets; print(secrets.token_urlsafe(64))'", id="kenpo.E001")
            for problem in weak_secrets()]
