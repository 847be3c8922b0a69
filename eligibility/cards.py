"""The dashboard's person cards, rendered once per distinct content and kept in the cache.

A card's markup depends only on the person, their card facts (and the dates derived
from them), their proofs (資格確認書, request, R6 basis), the day and the language; the
cache key is a digest of exactly those values and of the code that turns them into
words (template, wording modules, the rules, the catalogs, ``KENPO_CODE_VERSION``), so
a changed fact or a deploy can never show a stale card and nothing needs invalidating.
"""

import hashlib
import os
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
_CODE = (_HERE / "templates" / TEMPLATE, _HERE / "situation.py", _HERE / "clinic.py", _HERE / "proofs.py",
         _HERE / "cards.py", _HERE / "rules.py", *sorted(_HERE.glob("locale/*/LC_MESSAGES/*.mo")),
         *sorted((_HERE.parent / "locale").glob("*/LC_MESSAGES/*.mo")))
RULES_VERSION = hashlib.sha256((_HERE / "rules.py").read_bytes()).hexdigest()[:12]
CODE_VERSION = hashlib.sha256(
    os.environ.get("KENPO_CODE_VERSION", "").encode() + b"".join(path.read_bytes() for path in _CODE if path.exists())
).hexdigest()[:12]
TIMEOUT = 60 * 60 * 24
_PERSON_FIELDS = ("pk", "family_name", "given_name", "relationship", "birth_date", "eligible_from", "eligible_until",
                  "certificate_wanted", "my_number_registered")
_FACT_FIELDS = ("has_card", "card_expires_on", "ecert_expires_on", "ecert_source", "registered",
                "registration_source", "registration_as_of", "uses_smartphone",
                "effective_expires_on", "renewal_opens_on", "grace_ends_on")


def card_key(s: Situation, *, today: date, language: str) -> str:
    person, facts = s.person, s.facts
    values = [getattr(person, f) for f in _PERSON_FIELDS]
    values += [getattr(facts, f) for f in _FACT_FIELDS] if facts else [None]
    raw = repr((CODE_VERSION, RULES_VERSION, language, today, values, s.proof))
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
