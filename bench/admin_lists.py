"""Benchmark: big admin lists, counted exactly or by a job (core.pagination).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench \
        .venv/bin/python manage.py seed_demo --persons 1000000    # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench \
        .venv/bin/python bench/admin_lists.py [--runs 5]

Prints what a full ``COUNT(*)`` of the persons table costs (what Django's admin
would run twice per list page), what core.pagination's estimate costs, then the
admin pages (in process, Django's test client, logged in with MFA as 管理者):
the person list, a kana search, a filter, a later page, a person's detail page
(which writes an audit entry) and the audit log list. Target: no page over 1 s.
The bench login (a 管理者 with TOTP) is created once and reused.
"""

import argparse

from _setup import time_pages, timed  # sets Django up first
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from core.pagination import CountedPaginator
from eligibility.models import Person
from staff.roles import MANAGER, sync_roles
from staff.testing import login_with_mfa, make_staff

EMAIL = "bench-admin-lists@example.jp"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"persons: {CountedPaginator(Person.objects.order_by('pk'), 100).count:,}")

    timed("full COUNT(*) of persons (the floor)", lambda: Person.objects.count(), args.runs)
    timed("the list's count (core.pagination: exact, or by a job)",
          lambda: CountedPaginator(Person.objects.order_by("pk"), 100).count, args.runs)

    sync_roles()
    user = get_user_model().objects.filter(email=EMAIL).first() or make_staff(role=MANAGER, email=EMAIL)
    user.groups.set([Group.objects.get(name=MANAGER)])
    client = Client()
    login_with_mfa(client, user)
    person_id = Person.objects.order_by("pk").values_list("pk", flat=True)[500]
    pages = [
        ("person list", "/admin/eligibility/person/"),
        ("person list, kana search サトウ", "/admin/eligibility/person/?q=%E3%82%B5%E3%83%88%E3%82%A6"),
        ("person list, filter relationship=child", "/admin/eligibility/person/?relationship__exact=child"),
        ("person list, page 50", "/admin/eligibility/person/?p=50"),
        ("person detail (audited read)", f"/admin/eligibility/person/{person_id}/change/"),
        ("audit log list", "/admin/audit/auditentry/"),
        ("household list", "/admin/eligibility/household/"),
    ]
    time_pages(client, pages, args.runs)


if __name__ == "__main__":
    main()
