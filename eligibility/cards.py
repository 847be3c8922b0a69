"""The dashboard's person cards, rendered once per distinct content and kept in the cache.

A card's markup depends only on the person, their card facts, the day and the
language; the cache key is a digest of exactly those values (and of the template),
so a changed fact can never show a stale card and nothing needs invalidating. The
partials of other apps (certificates, reminders) are rendered fresh around it.
"""

import hashlib
from datetime import date
from pathlib import Path

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.translation import get_language

from .situation import Situation

TEMPLATE = "eligibility/_person_card.html"
_HERE = Path(__file__).parent
# What a card's words come from besides its data: a deploy that changes any of them
# must not serve cards cached by the previous release.
_TEMPLATE_DIGEST = hashlib.sha256(b"".join(
    path.read_bytes()
    for path in (_HERE / "templates" / TEMPLATE, _HERE / "situation.py", *sorted(_HERE.glob("locale/*/LC_MESSAGES/*.mo")))
    if path.exists()
)).hexdigest()[:12]
TIMEOUT = 60 * 60 * 24
_PERSON_FIELDS = ("pk", "family_name", "given_name", "relationship", "birth_date", "eligible_from", "eligible_until")
_FACT_FIELDS = ("has_card", "card_expires_on", "ecert_expires_on", "ecert_source", "registered",
                "registration_source", "registration_as_of", "uses_smartphone")


def card_key(s: Situation, *, today: date, language: str) -> str:
    person, facts = s.person, s.facts
    values = [getattr(person, f) for f in _PERSON_FIELDS]
    values += [getattr(facts, f) for f in _FACT_FIELDS] if facts else [None]
    raw = repr((_TEMPLATE_DIGEST, language, today, values))
    # A digest: the key never carries a name or a date of the person.
    return "elig:card:" + hashlib.sha256(raw.encode()).hexdigest()


def render_cards(situations: list[Situation], *, today: date) -> list[str]:
    """The markup of each situation's card, in order; one cache round trip for all."""
    language = get_language() or "ja"
    keys = [card_key(s, today=today, language=language) for s in situations]
    cached = cache.get_many(keys)
    missing = {}
    html = []
    for key, s in zip(keys, situations, strict=True):
        if key not in cached:
            cached[key] = missing[key] = render_to_string(TEMPLATE, {"s": s, "person": s.person})
        html.append(cached[key])
    if missing:
        cache.set_many(missing, TIMEOUT)
    return html
