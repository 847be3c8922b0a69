"""The dashboard's person cards: every word and date worked out here, in Python, so the
template (``_person_card.html``, a Jinja2 one) only places ready strings — the dashboard is the page
members open most, and with many members each opening it once, rendering is its cost.

There is no cache of its own here: the whole page is cached per login
(``dashboard_cache``), and a card cache keyed per person never hit when each member
opens the page once (issue #12: it cost two Redis round trips per page for nothing).
"""

import functools
import hashlib
import os
from pathlib import Path

from django.template import engines
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.wareki import format_member_date
from eligibility.rules import Status

from .situation import Situation

TEMPLATE = "member/_person_card.html"  # member/jinja2/: rendered by Jinja2 (kenpo_portal/jinja2.py)
_HERE = Path(__file__).parent
_ROOT = _HERE.parent
# What the dashboard's words come from besides its data: a deploy that changes any of
# them (or says so through KENPO_CODE_VERSION) never serves a page cached by the previous one.
_CODE = (_HERE / "jinja2" / TEMPLATE, _HERE / "templates" / "member" / "dashboard.html",
         _HERE / "templates" / "member" / "_dashboard.html", _HERE / "templates" / "member" / "_reminder_notices.html",
         *sorted(_HERE.glob("*.py")), *sorted(_ROOT.glob("eligibility/*.py")),
         *sorted((_ROOT / "locale").glob("*/LC_MESSAGES/*.mo")))
RULES_VERSION = hashlib.sha256((_ROOT / "eligibility" / "rules.py").read_bytes()).hexdigest()[:12]
CODE_VERSION = hashlib.sha256(
    os.environ.get("KENPO_CODE_VERSION", "").encode() + b"".join(path.read_bytes() for path in _CODE if path.exists())
).hexdigest()[:12]


@functools.cache
def _guide_url(slug: str) -> str:
    return reverse("eligibility:guide", args=[slug])  # the same for every member: worked out once


def _facts_rows(s: Situation, d) -> list[tuple[str, str, str]]:
    """(term, value, note) rows of the card facts."""
    facts = s.facts
    if ecert := facts.ecert_expires_on:
        ecert_text = d(ecert)
        ecert_note = "" if facts.ecert_source == "stated" else str(facts.get_ecert_source_display())
    elif s.ecert_candidates:
        ecert_text = _("未確認：%(first)s または %(second)s") % {
            "first": d(s.ecert_candidates[0]), "second": d(s.ecert_candidates[1])}
        ecert_note = ""
    else:
        ecert_text, ecert_note = _("未入力"), ""
    rows = [
        (_("カードの有効期限"), d(facts.card_expires_on) if facts.card_expires_on else _("未入力"), ""),
        (_("電子証明書の有効期限"), ecert_text, ecert_note),
    ]
    if s.renewal_opens_on:
        rows += [(_("更新できるのは"), _("%(day)sから") % {"day": d(s.renewal_opens_on)}, ""),
                 (_("猶予期間の終わり"), d(s.grace_ends_on), "")]
    if s.status == Status.LAPSED:
        registration = _("取り消されました")
    else:
        registration = _("登録済み") if facts.registered else _("未登録")
    source = ""
    if facts.registration_source:
        source = str(facts.get_registration_source_display())
        if facts.registration_as_of:
            source += "、" + d(facts.registration_as_of) + _("時点")
    rows += [(_("保険証の利用登録"), registration, source),
             (_("スマートフォン"), _("使っている") if facts.uses_smartphone else _("使っていない"), "")]
    return rows


def _panel(s: Situation) -> tuple[str, str, str]:
    """(text, link url, link text) of the 資格確認書 panel: follow a request, apply, or nothing to do."""
    proof, answer = s.proof, s.answer
    if proof.open_request_url:
        return _("申請の状況："), proof.open_request_url, proof.open_request_label
    if answer.may_request:
        return "", proof.request_url, _("資格確認書を申請する")
    if proof.basis:
        return _("申請は不要です（申請なしでお送りします）。"), "", ""
    if s.status:
        return _("マイナ保険証をお使いの間は、資格確認書は必要ありません。"), proof.request_url, \
            _("カードをなくしたときなどの申請")
    return "", "", ""


def card_context(s: Situation) -> dict:
    language = get_language() or "ja"

    def d(day):
        return format_member_date(day, language)

    person = s.person
    text, url, link_text = _panel(s)
    return {
        "pk": person.pk,
        "css": s.css_status,
        "name": person.name,
        "relationship": person.get_relationship_display(),
        "answer": s.answer,
        "status_label": s.status_label,
        "facts": _facts_rows(s, d) if s.facts and s.facts.has_card else [],
        "timeline": [(d(e.day), e.label, e.state) for e in s.timeline],
        "next_steps": s.next_steps,
        "panel_text": text, "panel_url": url, "panel_link": link_text,
        "links": [(_guide_url(slug), _("案内：%(title)s") % {"title": title})
                  for slug, title in s.guides]
        + [(reverse("eligibility:card_facts", args=[person.pk]),
            _("%(name)sさんのカード情報を更新する") % {"name": person.given_name})],
    }


def render_cards(situations: list[Situation]) -> list[SafeString]:
    """The markup of each situation's card, in order (Jinja2: a third of the Django
    engine's time for the same markup, on the page members open most)."""
    template = engines["jinja2"].get_template(TEMPLATE)
    return [mark_safe(template.render(card_context(s))) for s in situations]  # noqa: S308 — Jinja2 escaped it
