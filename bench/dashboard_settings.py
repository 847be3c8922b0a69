"""Settings for bench/dashboard.py: the project's, production-like, with the bare view on.

``--session cookie`` (the default) keeps the member's session in a signed cookie, so the
benchmark never writes to the database it reads (a 1M-person database stays read-only);
``--session db`` uses the project's own session store (one more query per request).
"""

import os

from kenpo_portal.settings import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
KENPO_BENCH_VIEWS = True
if os.environ.get("KENPO_BENCH_SESSION", "cookie") == "cookie":
    SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# bench/dashboard_cold.py adds a bare dashboard (same queries, trivial template) beside the site.
ROOT_URLCONF = "bench.urls"
