"""The nightly お知らせ pass in slices that resume (issue 20: at 300,000+ persons one pass
outlived Celery's 600 s limit and stopped)."""

from datetime import date

import pytest
from django.core import mail

from notices import tasks
from notices.models import NoticeRecord
from tests.factories import HouseholdFactory, PersonFactory, verified_member

pytestmark = pytest.mark.django_db
DAY = date(2026, 12, 10)


@pytest.fixture
def five_new_members():
    persons = [PersonFactory(household=HouseholdFactory(), eligible_from=date(2026, 12, 1)) for _ in range(5)]
    for n, person in enumerate(persons):
        verified_member(person, f"member{n}@example.jp")
    return persons


def test_a_slice_stops_when_its_time_is_spent_and_says_where(monkeypatch, five_new_members):
    monkeypatch.setattr(tasks, "CHUNK", 2)
    second = five_new_members[1]
    assert tasks.announce_slice(day=DAY, budget_seconds=0) == (2, second.pk)
    # Killed here and delivered again with the same start: nobody is told twice.
    assert tasks.announce_slice(day=DAY, budget_seconds=0) == (0, second.pk)
    assert tasks.announce_slice(day=DAY, after=second.pk, budget_seconds=60) == (3, None)
    assert sorted(m.to[0] for m in mail.outbox) == [f"member{n}@example.jp" for n in range(5)]
    assert NoticeRecord.objects.count() == 5


def test_the_nightly_task_queues_the_rest_as_tasks_of_their_own(monkeypatch, settings, eager_tasks,
                                                                five_new_members):
    monkeypatch.setattr(tasks, "CHUNK", 2)
    settings.KENPO_NOTICES_SLICE_SECONDS = 0  # one chunk a task: three tasks for five persons
    queued = []
    real_delay = tasks.announce_changed.delay
    monkeypatch.setattr(tasks.announce_changed, "delay", lambda *a: queued.append(a) or real_delay(*a))
    tasks.announce_changed(DAY.isoformat())
    assert queued == [(DAY.isoformat(), five_new_members[1].pk), (DAY.isoformat(), five_new_members[3].pk)]
    assert len(mail.outbox) == 5
