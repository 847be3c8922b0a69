"""The demo society obeys the rules it shows: nobody eligible before birth, nobody
aged 75 or over (R11), and every R6 basis on the ex-officio list."""

from datetime import date

import pytest
from django.core.management import call_command

from certificates.selectors import ex_officio_counts
from eligibility import demo_data, rules
from eligibility.models import MemberLink, Person
from eligibility.selectors import today


@pytest.mark.parametrize("day", [date(2026, 11, 25), date(2027, 3, 1), date(2031, 1, 1)])
def test_nobody_is_eligible_before_birth_or_aged_75(day):
    persons = [p for h in demo_data.generate(persons=5000, today=day) for p in h.persons]

    assert len(persons) == 5000
    assert all(p.birth_date <= p.eligible_from <= day for p in persons)
    assert all(rules.age_on(p.birth_date, day) < rules.LATE_ELDERLY_AGE for p in persons)
    assert any(not p.my_number_registered for p in persons)


@pytest.mark.django_db
def test_the_seeded_society_shows_every_basis_of_r6(capsys):
    call_command("seed_demo", persons=2000)
    day = today()

    counts = ex_officio_counts(today=day)
    assert all(n > 0 for n in counts.values()), counts
    assert not Person.objects.filter(birth_date__lte=rules.add_months(day, -12 * 75)).exists()
    assert not any(p.eligible_from < p.birth_date for p in Person.objects.all())
    assert Person.objects.filter(search_text__contains="カトウ").exists()


@pytest.mark.django_db
def test_the_demo_has_two_employer_contacts_and_packets_for_them(capsys, eager_tasks,
                                                                  django_capture_on_commit_callbacks):
    from certificates.models import Packet
    from eligibility.models import EmployerContact

    with django_capture_on_commit_callbacks(execute=True):  # the print files render as in bin/demo
        call_command("seed_demo", persons=2000)
    printed = capsys.readouterr().out
    contacts = list(EmployerContact.objects.order_by("user__email"))
    assert [c.user.email for c in contacts] == ["hr2@example.jp", "hr@example.jp"]
    assert "hr@example.jp" in printed and "hr2@example.jp" in printed
    member_employer = MemberLink.objects.get(user__email="member@example.jp").person.household.employer
    assert list(contacts[1].employers.all()) == [member_employer]
    assert contacts[0].employers.count() == 2 and member_employer not in contacts[0].employers.all()
    assert Packet.objects.exists()
