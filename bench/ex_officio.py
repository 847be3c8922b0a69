"""Benchmark: the ex-officio list (R6) and the folded name search at a million persons.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench \\
        .venv/bin/python manage.py seed_demo --persons 1000000    # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench \\
        .venv/bin/python bench/ex_officio.py [--runs 3]

Times ``ex_officio_counts`` (the dashboard's numbers per basis, run by the worker),
then pages through Django's test client: the ex-officio list (first page, per basis),
and name searches (hiragana, half-width kana, 異体字) on the person, ex-officio,
certificate and request lists. Target: no page over 1 s.
"""

import argparse
from urllib.parse import urlencode

from _setup import time_pages, timed  # sets Django up first
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from certificates.selectors import ex_officio_candidates, ex_officio_counts
from eligibility.models import Person
from eligibility.selectors import today
from staff.testing import login_with_mfa, make_staff

EMAIL = "bench-ex-officio@example.jp"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    day = today()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}, persons: {Person.objects.count():,}")
    counts = ex_officio_counts(today=day)
    print("ex-officio list per basis:", counts)
    timed("ex_officio_counts (one grouped query)", lambda: ex_officio_counts(today=day), args.runs)
    timed("ex-officio list, first 100 rows (SQL)", lambda: list(ex_officio_candidates(today=day)[:100]), args.runs)

    user = get_user_model().objects.filter(email=EMAIL).first() or make_staff(role=None, email=EMAIL, superuser=True)
    client = Client()
    login_with_mfa(client, user)
    pages = [("ex-officio list", "/admin/certificates/exofficiocandidate/")]
    pages += [(f"ex-officio list, basis={b}", f"/admin/certificates/exofficiocandidate/?basis={b}") for b in counts]
    for label, q in (("hiragana かとう", "かとう"), ("half-width ﾀｶﾊｼ", "ﾀｶﾊｼ"), ("異体字 髙橋 (2 kanji)", "髙橋"),
                     ("two terms やまざき はなこ", "やまざき はなこ"), ("no match ゐゑ", "ゐゑ")):
        pages.append((f"person list, search {label}", f"/admin/eligibility/person/?{urlencode({'q': q})}"))
    pages += [
        ("ex-officio list, search さとう", "/admin/certificates/exofficiocandidate/?" + urlencode({"q": "さとう"})),
        ("certificate list, search 高橋", "/admin/certificates/eligibilitycertificate/?" + urlencode({"q": "高橋"})),
        ("request list, search かとう", "/admin/certificates/reissuerequest/?" + urlencode({"q": "かとう"})),
    ]
    time_pages(client, pages, args.runs)


if __name__ == "__main__":
    main()
