"""Reads of the eligibility data. The "object for this member" lookups live here, once.

A member sees only their own household (or only themself, for a dependent's own
login); anything else is a 404, never a 403 that would confirm it exists.
"""

from dataclasses import dataclass
from datetime import date

from allauth.account.models import EmailAddress
from django.db import connection
from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.text import smart_split, unescape_string_literal

from core.email import languages_of
from core.kana import fold_for_search
from core.wareki import parse_date

from . import rows, rules
from .models import CardFacts, Household, MemberLink, Person
from .rules import Status


def today() -> date:
    """Today in Japan (Asia/Tokyo)."""
    return timezone.localdate()


def member_link_for(user) -> MemberLink | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return MemberLink.objects.select_related("person__household").get(user=user)
    except MemberLink.DoesNotExist:
        return None


def user_display(user) -> str:
    """How allauth names a login (「… としてログインしました」): the linked person's name,
    else the e-mail address; never the generated username."""
    link = member_link_for(user)
    if link is not None:
        return link.person.name
    return getattr(user, "email", "") or ""


def persons_for_member(user) -> QuerySet[Person]:
    """The persons this login may see: its household, or only itself for a dependent."""
    return persons_for_link(member_link_for(user))


def persons_for_link(link: MemberLink | None) -> QuerySet[Person]:
    """``persons_for_member`` for a link already loaded (saves its query)."""
    if link is None:
        return Person.objects.none()
    qs = Person.objects.select_related("household", "card")
    if link.sees_household:
        return qs.filter(household_id=link.person.household_id).order_by("branch_number")
    return qs.filter(pk=link.person_id)


def person_for_member(user, pk) -> Person:
    """One person this login may see, or 404."""
    try:
        return persons_for_member(user).get(pk=pk)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def household_for_member(user) -> Household | None:
    link = member_link_for(user)
    return link.person.household if link else None


def eligible_on(day: date) -> Q:
    """Persons with eligibility on ``day``: 資格取得日 <= day < 資格喪失日, not yet 75 (R11), and
    not past 任意継続's last day (R8) — ``Person.is_eligible_on`` in SQL.

    Turned 75 on or before ``day`` ⇔ born on or before the date 75 years earlier
    (Feb 29 clamped to Feb 28, so a Feb 29 birth turns 75 on Mar 1 in a common year).
    """
    turned_75_by = rules.add_months(day, -12 * rules.LATE_ELDERLY_AGE)
    return (
        Q(eligible_from__lte=day)
        & (Q(eligible_until__isnull=True) | Q(eligible_until__gt=day))
        & Q(birth_date__gt=turned_75_by)
        & ~Q(household__voluntary_continuation=True, household__voluntary_continuation_ends_on__lt=day)
    )


def with_status(qs: QuerySet[Person], *, day: date) -> QuerySet[Person]:
    """Annotate ``status`` (R5) in SQL, from the dates CardFacts derived by rules.

    The SQL mirror of ``rules.insurance_status``; tests check the two agree on a
    population that covers every boundary.
    """
    return qs.annotate(
        status=Case(
            # Nobody has said (no card facts, or has_card null): unknown, never no_card (R5).
            When(Q(card__isnull=True) | Q(card__has_card__isnull=True), then=Value(Status.UNKNOWN.value)),
            When(card__has_card=False, then=Value(Status.NO_CARD.value)),
            When(card__registered=False, then=Value(Status.NOT_REGISTERED.value)),
            When(
                Q(card__effective_expires_on__isnull=True) | Q(card__renewal_opens_on__gt=day),
                then=Value(Status.ACTIVE.value),
            ),
            When(card__effective_expires_on__gte=day, then=Value(Status.RENEW_NOW.value)),
            When(card__grace_ends_on__gte=day, then=Value(Status.GRACE.value)),
            default=Value(Status.LAPSED.value),
            output_field=CharField(),
        )
    )


def dashboard_rows(user) -> list[Person]:
    """The household of this login's person (with ``household`` and ``card`` loaded), each
    row given ``link_id`` (the login's link on its own person's row, else None): link and
    persons in one query. Pass the result to ``split_dashboard_rows``.

    The same rows as ``Person.objects.select_related("household", "card")`` filtered to the
    household, written in SQL: the dashboard is opened once by many members on a cold
    cache, and compiling that query cost more than running it (issue 26)."""
    if not getattr(user, "is_authenticated", False):
        return []
    persons, households, cards = rows.Columns.chain((Person, "p"), (Household, "h"), (CardFacts, "c"))
    links = MemberLink._meta.db_table
    # Names from the models' _meta; the only value (the login) is a parameter.
    sql = (
        f"SELECT {persons.select}, {households.select}, {cards.select},"  # noqa: S608
        f" (SELECT l.id FROM {links} l WHERE l.user_id = %s AND l.person_id = p.id) AS link_id"
        f" FROM {Person._meta.db_table} p"
        f" INNER JOIN {Household._meta.db_table} h ON h.id = p.household_id"
        f" LEFT OUTER JOIN {CardFacts._meta.db_table} c ON c.person_id = p.id"
        # A login has one link (MemberLink.user is one-to-one): "=" plans in a third of "IN".
        f" WHERE p.household_id = (SELECT o.household_id FROM {links} l"
        f" INNER JOIN {Person._meta.db_table} o ON o.id = l.person_id WHERE l.user_id = %s)"
        " ORDER BY p.branch_number"
    )
    result = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk])
        for row in cursor.fetchall():
            person = persons.instance(row)
            person.household = households.instance(row)
            card = cards.instance(row)  # None without a CardFacts row: ``person.card`` raises, as select_related
            Person.card.related.set_cached_value(person, card)
            person.link_id = row[-1]
            result.append(person)
    return result


def split_dashboard_rows(rows: list[Person], user) -> tuple[MemberLink | None, list[Person]]:
    """(the login's link, the persons it may see) from ``dashboard_rows``: the same rule as
    ``persons_for_member`` — the household for the insured person, else only themself."""
    own = next((p for p in rows if p.link_id is not None), None)
    if own is None:
        return None, []
    link = MemberLink(pk=own.link_id, user=user, person=own)
    return link, (rows if link.sees_household else [own])


def search_terms(search_term: str) -> list[str]:
    """The terms of a search box's text, as Django's admin splits them ("quoted" terms kept whole)."""
    return [unescape_string_literal(t) if t[:1] in ('"', "'") else t for t in smart_split(search_term or "")]


def name_matches(field: str, term: str) -> Q:
    """A person whose stored ``search_text`` (at ``field``: "search_text", "person__search_text")
    contains ``term`` folded (hiragana or katakana, half- or full-width, 髙/高 …: core.kana)."""
    folded = fold_for_search(term)
    return Q(**{f"{field}__contains": folded}) if folded else Q(pk__in=[])


def search_term_matches(field: str, term: str) -> Q:
    """A person matching one term of a search box: born that day when the term reads as a
    date (``core.wareki.parse_date``: 1985-04-12, 19850412, 昭和60年4月12日, S60.4.12), else
    whose name contains it (``name_matches``). ``field`` is the path of ``search_text``."""
    born = parse_date(term)
    if born is not None:
        return Q(**{field.removesuffix("search_text") + "birth_date": born})
    return name_matches(field, term)


@dataclass(frozen=True)
class Login:
    user_id: int
    email: str
    person_id: int
    sees_household: bool
    # The language this login last used the portal in; None: never seen (ja, then en).
    language: str | None = None


def household_logins(household_ids) -> dict[int, list[Login]]:
    """The logins e-mailed about these households: linked, active, with a verified primary
    address — the one rule of who gets an e-mail about a person (``logins_seeing``).

    Three queries for any number of households. An insured person's login sees the
    household; a dependent's own login only themself (eligibility.models.MemberLink).
    """
    links = list(
        MemberLink.objects.filter(person__household_id__in=list(household_ids), user__is_active=True)
        .values_list("user_id", "person_id", "person__household_id", "person__relationship")
        .order_by("user_id")
    )
    emails = dict(
        EmailAddress.objects.filter(user_id__in=[link[0] for link in links], verified=True, primary=True)
        .values_list("user_id", "email")
    )
    languages = languages_of(emails)
    result: dict[int, list[Login]] = {}
    for user_id, person_id, household_id, relationship in links:
        if user_id in emails:
            result.setdefault(household_id, []).append(
                Login(user_id=user_id, email=emails[user_id], person_id=person_id,
                      sees_household=relationship == Person.Relationship.SELF, language=languages.get(user_id))
            )
    return result


def verified_email(user) -> str | None:
    """Where an e-mail to this one login goes (a request's outcome): as ``household_logins``,
    its verified primary address when the login is active, else None."""
    if user is None or not user.is_active:
        return None
    return EmailAddress.objects.filter(user=user, verified=True, primary=True).values_list("email", flat=True).first()


def logins_seeing(persons) -> dict[int, list[Login]]:
    """For each person (by pk): the logins e-mailed about them — their own, and the insured
    person's (who sees the household) — active, with a verified primary address."""
    persons = list(persons)
    by_household = household_logins({p.household_id for p in persons})
    return {
        p.pk: [login for login in by_household.get(p.household_id, []) if login.sees_household or login.person_id == p.pk]
        for p in persons
    }
