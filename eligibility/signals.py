"""Forget cached dashboards when a model the dashboard shows is saved or deleted.

See ``dashboard_cache``: this is the safety net for every plain ``save()``
(the admin, services); set-based updates call ``forget_households`` themselves
or rely on the cache's short timeout.
"""

from django.apps import apps
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


RECEIVERS = {
    "eligibility.Household": _household,
    "eligibility.Person": _by_household_id,
    "eligibility.CardFacts": _by_person_id,
    "eligibility.MemberLink": _member_link,
    "certificates.EligibilityCertificate": _by_person_id,
    "certificates.ReissueRequest": _by_person_id,
    "reminders.Reminder": _by_household_id,
}


def connect() -> None:
    """Connect every receiver. A label that names no installed model stops the start-up
    (LookupError): a typo must not silently leave cached dashboards stale."""
    for label, receiver in RECEIVERS.items():
        model = apps.get_model(label)
        uid = f"dashboard-cache-{label}"
        post_save.connect(receiver, sender=model, dispatch_uid=uid + "-save", weak=False)
        post_delete.connect(receiver, sender=model, dispatch_uid=uid + "-delete", weak=False)
