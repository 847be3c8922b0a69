"""The member dashboard's main content, rendered once and kept in the cache.

The dashboard is the page members open most. Its content depends only on the
household's data, the viewer (the household, or one dependent's own login), the
language and the day, so it is cached under exactly those and forgotten whenever
anything a member sees there changes:

- services that change what the dashboard shows call ``forget_households`` (card
  facts, linking, reminder notices, certificate requests and steps);
- ``post_save``/``post_delete`` of the same models forget too, so an admin edit
  or any other plain ``save()`` is covered without remembering to call it;
- set-based jobs (the nightly reminder scan, roster imports, print batches) rely
  on the short ``TIMEOUT``: what they change shows within a minute.

The CSRF token of the notice forms differs per browser, so the cached markup
holds a placeholder that each response fills in.
"""

from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.middleware.csrf import get_token

TIMEOUT = 60
CSRF_PLACEHOLDER = "KENPO-CSRF-PLACEHOLDER"
HOUSEHOLD = "household"


def _main_key(household_id: int, viewer: str, language: str) -> str:
    return f"elig:dash:{household_id}:{viewer}:{language}"


def _link_key(user_id: int) -> str:
    return f"elig:link:{user_id}"


def viewer_of(link) -> str:
    """Whose dashboard this is: the whole household, or one dependent's own."""
    return HOUSEHOLD if link.sees_household else f"p{link.person_id}"


def cached_link(user_id: int) -> tuple[int, int, bool] | None:
    """(household id, person id, sees household) of a login, when cached."""
    return cache.get(_link_key(user_id))


def remember_link(user_id: int, *, household_id: int, person_id: int, sees_household: bool) -> None:
    cache.set(_link_key(user_id), (household_id, person_id, sees_household), TIMEOUT * 10)


def forget_link(user_id: int) -> None:
    cache.delete(_link_key(user_id))


def get_main(*, household_id: int, viewer: str, language: str, today: date) -> str | None:
    cached = cache.get(_main_key(household_id, viewer, language))
    if cached and cached[0] == today.isoformat():
        return cached[1]
    return None


def set_main(*, household_id: int, viewer: str, language: str, today: date, html: str) -> None:
    cache.set(_main_key(household_id, viewer, language), (today.isoformat(), html), TIMEOUT)


def with_csrf_token(html: str, request) -> str:
    return html.replace(CSRF_PLACEHOLDER, get_token(request))


def forget_households(household_ids: Iterable[int]) -> None:
    """Forget the cached dashboards of these households, for every viewer and language."""
    from .models import Person

    household_ids = {h for h in household_ids if h is not None}
    if not household_ids:
        return
    by_household = Person.objects.filter(household_id__in=household_ids).values_list("household_id", "pk")
    keys = [_main_key(h, HOUSEHOLD, lang) for h in household_ids for lang, _ in settings.LANGUAGES]
    keys += [_main_key(h, f"p{pk}", lang) for h, pk in by_household for lang, _ in settings.LANGUAGES]
    cache.delete_many(keys)


def forget_persons(person_ids: Iterable[int]) -> None:
    from .models import Person

    forget_households(Person.objects.filter(pk__in=list(person_ids)).values_list("household_id", flat=True).distinct())
