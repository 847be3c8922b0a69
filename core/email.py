"""What every e-mail of the site shares: one subject style, and the member's language.

* ``subject(text, language=)``: 【けんぽポータル】… in Japanese, ``[Kenpo Portal] …`` in
  English — the only place the prefix is written. Call it for every subject
  (allauth's through ``AccountAdapter`` below).
* ``languages_of(user_ids)``: the language each login last used the portal in
  (``core.models.MemberLanguage``, kept by ``core.middleware.RememberLanguageMiddleware``).
  A login not seen since has none: write to it in Japanese followed by English
  (``core.email_language.render_in``).
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
    """The language each of these logins last used the portal in (one query); unknown ones are left out."""
    from .models import MemberLanguage

    return dict(MemberLanguage.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "language"))


def remember_language(*, user_id: int, language: str) -> None:
    from .models import MemberLanguage

    MemberLanguage.objects.update_or_create(user_id=user_id, defaults={"language": site_language(language)})


class AccountAdapter(RateLimitedAccountAdapter):
    """core.adapters' adapter (rate-limit keys behind the proxy), and allauth's e-mails
    (sign-up, password reset) get the site's one subject style."""

    def format_email_subject(self, subject_text: str) -> str:
        return subject(subject_text)
