"""Every card facts change is kept with who and when; the derived dates follow."""

from datetime import date

import pytest

from audit.models import AuditEntry
from eligibility.models import CardFactsChange
from eligibility.services import update_card_facts

pytestmark = pytest.mark.django_db


def test_it_keeps_who_when_before_and_after(alice, alice_person):
    change = update_card_facts(person=alice_person, changes={"ecert_expires_on": date(2031, 11, 14)},
                               changed_by=alice)
    assert change.changed_by == alice and change.changed_at is not None
    assert change.before == {"ecert_expires_on": "2026-11-14"}
    assert change.after == {"ecert_expires_on": "2031-11-14"}
    alice_person.card.refresh_from_db()
    assert alice_person.card.updated_by == alice
    # The derived dates follow the new expiry (rules R3/R4).
    assert alice_person.card.renewal_opens_on == date(2031, 8, 15)
    assert alice_person.card.grace_ends_on == date(2032, 2, 29)
    entry = AuditEntry.objects.get(action="change")
    assert entry.household_id == alice_person.household_id and entry.actor == alice


def test_it_writes_nothing_when_nothing_changed(alice, alice_person):
    assert update_card_facts(person=alice_person, changes={"has_card": True}, changed_by=alice) is None
    assert not CardFactsChange.objects.exists()


def test_it_creates_card_facts_for_a_person_without_any(alice, bob_person):
    update_card_facts(person=bob_person, changes={"has_card": True, "card_expires_on": date(2035, 4, 2)},
                      changed_by=alice)
    assert bob_person.card.effective_expires_on == date(2035, 4, 2)


def test_it_refuses_fields_that_are_not_card_facts(alice, alice_person):
    with pytest.raises(ValueError):
        update_card_facts(person=alice_person, changes={"birth_date": date(1990, 1, 1)}, changed_by=alice)


def _facts():
    from eligibility.models import CardFacts

    return CardFacts(has_card=True, registered=True, ecert_expires_on=date(2026, 11, 14),
                     card_expires_on=date(2031, 11, 14)).derive()  # opens 2026-08-15, grace ends 2027-02-28


@pytest.mark.parametrize("today", [date(2026, 8, 15), date(2026, 11, 14), date(2026, 10, 1), date(2027, 2, 28)])
def test_the_timeline_marks_today_exactly_once(today):
    from eligibility.rules import Status
    from member.situation import Situation, _timeline

    s = Situation(person=None, facts=_facts(), status=Status.ACTIVE, status_label="")
    events = _timeline(s, today)
    assert sum(e.state == "today" for e in events) == 1
    assert [e.day for e in events] == sorted(e.day for e in events)
    assert all(e.day >= today for e in events)  # 「これからの予定」 never lists what is past


def test_the_timeline_is_left_out_once_every_date_is_past():
    from eligibility.rules import Status
    from member.situation import Situation, _timeline

    s = Situation(person=None, facts=_facts(), status=Status.LAPSED, status_label="")
    assert _timeline(s, date(2027, 3, 1)) == []


def test_a_card_that_expires_before_its_certificate_says_the_card_needs_an_application(alice_person):
    from member.situation import situation_of

    facts = alice_person.card
    facts.card_expires_on = date(2027, 1, 10)
    facts.ecert_expires_on = None
    facts.save()
    alice_person.birth_date = date(1985, 1, 10)
    s = situation_of(alice_person, today=date(2026, 6, 1))  # fixed: the card still works then
    assert s.card_expires_first
    assert any("事前の申請" in str(step) for step in s.next_steps)
