"""Forget cached dashboards when a model the dashboard shows is saved or deleted.

See ``dashboard_cache``: this is the safety net for every plain ``save()``
(the admin, services); set-based updates call ``forget_households`` themselves
or rely on the cache's short timeout.

Each app connects its own models (by class, in its ``AppConfig.ready``): eligibility
its four here; certificates its 資格確認書 and requests, reminders its reminders, with
``forget_dashboards(model, by=...)``.
"""

from collections.abc import Callable

from django.db.models.signals import post_delete, post_save

from . import dashboard_cache


def _household(sender, instance, **kwargs):
    dashboard_cache.forget_households([instance.pk])


def _by_household_id(sender, instance, **kwargs):
    dashboard_cache.forget_households([instance.household_id])


def _by_person_id(sender, instance, **kwargs):
    dashboard_cache.forget_persons([instance.person_id])


def _member_link(sender, instance, **kwargs):
    dashboard_cache.forget_users([instance.user_id])
    dashboard_cache.forget_persons([instance.person_id])


BY = {"household": _by_household_id, "person": _by_person_id}


def forget_dashboards(model, *, by: str | Callable = "person") -> None:
    """Forget the cached dashboards a saved or deleted ``model`` row shows in: ``by`` its
    ``person_id`` ("person"), its ``household_id`` ("household"), or a receiver of its own."""
    receiver = BY[by] if isinstance(by, str) else by
    uid = f"dashboard-cache-{model._meta.label}"
    post_save.connect(receiver, sender=model, dispatch_uid=uid + "-save", weak=False)
    post_delete.connect(receiver, sender=model, dispatch_uid=uid + "-delete", weak=False)


def connect() -> None:
    from .models import CardFacts, Household, MemberLink, Person

    forget_dashboards(Household, by=_household)
    forget_dashboards(Person, by="household")
    forget_dashboards(CardFacts, by="person")
    forget_dashboards(MemberLink, by=_member_link)
