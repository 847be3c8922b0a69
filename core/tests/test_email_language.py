"""E-mails in the member's language, with the site's one subject style."""

from django.utils.translation import gettext as _

from core.email import subject
from core.email_language import render_in


def _render():
    return subject(_("申請を受け付けました。")), _("申請を受け付けました。")


def test_a_known_language_gets_its_own_subject_prefix():
    title, _body = render_in("en", _render)
    assert title.startswith("[Kenpo Portal] ")
    title, _body = render_in("ja", _render)
    assert title.startswith("【けんぽポータル】")


def test_an_unknown_language_gets_japanese_then_english():
    title, body = render_in(None, _render)
    assert title.startswith("【けんぽポータル】")
    assert body.index("申請を受け付けました") < body.index("----- English -----")
