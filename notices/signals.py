"""A saved person may have a new お知らせ due (a printed item changed, or they joined)."""

from django.db import transaction
from django.db.models.signals import post_save

from eligibility.models import Person


def _person_saved(sender, instance, **kwargs):
    from eligibility.selectors import today

    from . import services

    transaction.on_commit(lambda: services.announce(person_ids=[instance.pk], today=today()))


def connect() -> None:
    post_save.connect(_person_saved, sender=Person, dispatch_uid="notices-person-saved", weak=False)
