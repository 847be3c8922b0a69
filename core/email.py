"""What every e-mail of the site shares: one subject style, and the member's language.

Minimal version on the ``member`` branch (the ``reminders`` branch carries the full one,
with the language each login last used): ``subject()`` is the only place the prefix is
written; ``languages_of()`` knows no language yet, so callers write Japanese then English.
"""

from django.conf import settings
from django.utils import translation

from .adapters import AccountAdapter as RateLimitedAccountAdapter

PREFIX = {"ja": "【けんぽポータル】", "en": "[Kenpo Portal] "}


def site_language(language: str | None) -> str:
    """``language`` reduced to one the site speaks (``en-us`` → ``en``); Japanese otherwise."""
    code = (language or "").lower().split("-")[0]
    return code if code in {c for c, _ in settings.LANGUAGES} else settings.LANGUAGE_CODE


def subject(text: str, *, language: str | None = None) -> str:
    """The subject line of any e-mail of the site, in ``language`` (default: the active one)."""
    return PREFIX.get(site_language(language or translation.get_language()), PREFIX["ja"]) + str(text).strip()


def languages_of(user_ids) -> dict[int, str]:
    """The language each login last used the portal in; unknown ones are left out."""
    return {}


class AccountAdapter(RateLimitedAccountAdapter):
    """core.adapters' adapter (rate-limit keys behind the proxy), and allauth's e-mails
    (sign-up, password reset) get the site's one subject style."""

    def format_email_subject(self, subject_text: str) -> str:
        return subject(subject_text)
