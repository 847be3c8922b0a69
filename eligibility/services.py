"""Writes to the eligibility data. Each public function is one whole change."""

from datetime import date

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import record

from .models import CardFacts, CardFactsChange, Person

# The member-editable card facts, in the order the history shows them.
CARD_FACT_FIELDS = (
    "has_card",
    "card_expires_on",
    "ecert_expires_on",
    "ecert_source",
    "registered",
    "registration_source",
    "registration_as_of",
    "uses_smartphone",
)


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


@transaction.atomic
def update_card_facts(
    *,
    person: Person,
    changes: dict,
    changed_by,
    source: str = CardFactsChange.Source.MEMBER,
    request: HttpRequest | None = None,
) -> CardFactsChange | None:
    """Apply ``changes`` (field → value) to ``person``'s card facts and keep the history.

    Returns the history row, or None when nothing actually changed. The derived
    dates (renewal opens, grace end) follow on save via ``rules``.
    """
    unknown = set(changes) - set(CARD_FACT_FIELDS)
    if unknown:
        raise ValueError(f"not card facts: {sorted(unknown)}")
    facts, _ = CardFacts.objects.select_for_update().get_or_create(person=person)
    before, after = {}, {}
    for field, value in changes.items():
        old = getattr(facts, field)
        if old != value:
            before[field], after[field] = _jsonable(old), _jsonable(value)
            setattr(facts, field, value)
    if not after:
        return None
    facts.updated_at = timezone.now()
    facts.updated_by = changed_by if getattr(changed_by, "is_authenticated", False) else None
    facts.save()
    change = CardFactsChange.objects.create(
        person=person, changed_by=facts.updated_by, source=source, before=before, after=after,
        changed_at=facts.updated_at,
    )
    record(
        action="change",
        request=request,
        actor=facts.updated_by,
        obj=facts,
        household=person.household,
        summary="カード情報の変更",
        details={"fields": sorted(after)},
    )
    person.card = facts
    return change
