"""The member dashboard, rendered once and kept in the cache for each login.

The dashboard is the page members open most. It depends only on the household's
data, on whose login it is, on the language and on the day, so the rendered page
is cached per login and language (and checked against the day) and forgotten
whenever anything it shows changes:

- services that change what the dashboard shows with a set-based ``update()``
  call ``forget_households`` (reminder notices, the e-mail switch, …);
- ``post_save``/``post_delete`` of the models it shows forget too (``signals``),
  so an admin edit or any other plain ``save()`` is covered;
- set-based jobs (the nightly reminder scan, roster imports, print batches) rely
  on the short ``TIMEOUT``: what they change shows within a minute.

A page carrying a one-off message ("saved") is never cached, and the CSRF token of
the page's forms differs per browser, so the cached page holds a placeholder that
each response fills in.
"""

from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.middleware.csrf import get_token

TIMEOUT = 60
CSRF_PLACEHOLDER = "KENPO-CSRF-PLACEHOLDER"


def _key(user_id: int, language: str) -> str:
    return f"elig:dash:{user_id}:{language}"


def get_page(*, user_id: int, language: str, today: date, version: str = "") -> str | None:
    """The page cached for this login, language and day by code ``version`` (the page's
    ``member.cards.CODE_VERSION``: a deploy that changes any wording or rule never serves
    the old page), or None."""
    cached = cache.get(_key(user_id, language))
    if cached and cached[0] == today.isoformat() and cached[1] == version:
        return cached[2]
    return None


def set_page(*, user_id: int, language: str, today: date, html: str, version: str = "") -> None:
    cache.set(_key(user_id, language), (today.isoformat(), version, html), TIMEOUT)


def with_csrf_token(html: str, request) -> str:
    return html.replace(CSRF_PLACEHOLDER, get_token(request))


def forget_users(user_ids: Iterable[int]) -> None:
    keys = [_key(u, lang) for u in set(user_ids) for lang, _ in settings.LANGUAGES]
    cache.delete_many(keys)
    # Again at commit: a page cached meanwhile was rendered from the data before the change.
    transaction.on_commit(lambda: cache.delete_many(keys))


def forget_households(household_ids: Iterable[int]) -> None:
    """Forget the cached dashboards of every login linked into these households."""
    from .models import MemberLink

    household_ids = {h for h in household_ids if h is not None}
    if household_ids:
        forget_users(
            MemberLink.objects.filter(person__household_id__in=household_ids).values_list("user_id", flat=True)
        )


def forget_persons(person_ids: Iterable[int]) -> None:
    from .models import Person

    forget_households(Person.objects.filter(pk__in=list(person_ids)).values_list("household_id", flat=True))
