"""Member logins the gunicorn benchmarks make once and keep: ``<prefix>-NNNNN@bench.invalid``,
each linked to the insured person of a household that has no login yet.

Import it after ``django.setup()`` (each benchmark chooses its own settings first).
"""

import sys


def member_logins(*, prefix: str, count: int, verified: bool = False, shuffled: bool = False) -> list:
    """The first ``count`` logins named ``prefix-…`` (by e-mail), making the missing ones.

    ``verified``: each gets a verified primary e-mail address (allauth's login form needs
    one); ``shuffled``: the households are picked at random rather than by id."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models import Q

    from eligibility import selectors
    from eligibility.models import MemberLink, Person

    User = get_user_model()
    mine = Q(email__startswith=f"{prefix}-", email__endswith="@bench.invalid")
    users = list(User.objects.filter(mine).order_by("email")[:count])
    if len(users) < count:
        taken = MemberLink.objects.values("person_id")
        persons = list(
            Person.objects.filter(selectors.eligible_on(selectors.today()), relationship=Person.Relationship.SELF)
            .exclude(pk__in=taken).order_by("?" if shuffled else "pk")
            .values_list("pk", flat=True)[: count - len(users)]
        )
        if len(persons) < count - len(users):
            sys.exit("not enough households without a login: seed_demo with more persons")
        start = len(users)
        with transaction.atomic():
            made = User.objects.bulk_create([
                User(username=f"{prefix}-{start + i:05d}", email=f"{prefix}-{start + i:05d}@bench.invalid", password="!")
                for i in range(len(persons))
            ])
            MemberLink.objects.bulk_create([MemberLink(user=u, person_id=p) for u, p in zip(made, persons, strict=True)])
            if verified:
                EmailAddress.objects.bulk_create([
                    EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in made
                ])
        users = list(User.objects.filter(mine).order_by("email")[:count])
    return users
