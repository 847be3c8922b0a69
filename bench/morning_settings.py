"""Settings for bench/morning.py: production mode as docker-compose.yml deploys it
(``DJANGO_ENV=production``, Redis cache and ``cached_db`` sessions, manifest static files,
Caddy as the one trusted proxy), with the bare view routed beside the site.

Two differences from a deployment, both because the load generator talks plain HTTP to
gunicorn on 127.0.0.1 where Caddy would have ended TLS: the session and CSRF cookies are
not marked Secure (no HTTP client sends a Secure cookie over plain HTTP), and the host is
127.0.0.1. Everything else a member's request meets (middleware, password hasher, rate
limits, audit log, the language row) is the production code path. Never deployed.
"""

import os

os.environ.setdefault("DJANGO_ENV", "production")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-morning-only-never-deployed-" + "x" * 40)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1")
# Caddy is the one proxy (.env.example): its X-Forwarded-For and -Proto are believed; the
# load test sends what Caddy would (each member's own address, https).
os.environ.setdefault("KENPO_TRUSTED_PROXY_COUNT", "1")

from kenpo_portal.settings import *  # noqa: F403
from kenpo_portal.settings import PRODUCTION

assert PRODUCTION, "bench/morning.py measures the production settings"

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The site's URLs plus member.bench_views.bare (which member.urls never routes in production).
ROOT_URLCONF = "bench.morning_urls"
