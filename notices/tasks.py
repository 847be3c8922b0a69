"""Set-based changes (roster imports, a society's new address) save no single person:
a daily pass announces what changed since. A thin interface over ``services``."""

from celery import shared_task

from eligibility.models import Person
from eligibility.selectors import eligible_on, today

from . import services

CHUNK = 2000


@shared_task(name="notices.tasks.announce_changed")
def announce_changed() -> int:
    day = today()
    ids = Person.objects.filter(eligible_on(day)).order_by("pk").values_list("pk", flat=True)
    sent, chunk = 0, []
    for pk in ids.iterator(chunk_size=CHUNK):
        chunk.append(pk)
        if len(chunk) == CHUNK:
            sent += services.announce(person_ids=chunk, today=day)
            chunk = []
    if chunk:
        sent += services.announce(person_ids=chunk, today=day)
    return sent
