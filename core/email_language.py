"""Rendering an e-mail in the language of the login it goes to (``core.email.languages_of``)."""

from django.utils import translation

from .email import site_language


def render_in(language: str | None, render) -> tuple[str, str]:
    """(subject text, body) from ``render()`` in the login's language; with none known,
    Japanese followed by English in one body (the subject in Japanese)."""
    if language:
        with translation.override(site_language(language)):
            return render()
    with translation.override("ja"):
        ja_subject, ja_body = render()
    with translation.override("en"):
        _, en_body = render()
    return ja_subject, f"{ja_body.rstrip()}\n\n----- English -----\n\n{en_body.lstrip()}"
