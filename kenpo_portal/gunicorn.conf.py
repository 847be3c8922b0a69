"""gunicorn settings for the web service (docker-compose.yml and bench/)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Two sync workers per core (issue 26, bench/morning.py): the work is CPU-bound, but with
# one a core a 15 ms page waits behind a login's ~0.5 s password check (dashboard p99
# 348 ms with 2 workers on 2 cores, 50 ms with 4, at twice the reminder morning's rate).
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * len(os.sched_getaffinity(0)))))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 60
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") == "1" else None
# No request line in logs by default: URLs never carry 記号・番号, but keep logs lean.
# When on: the path without its query string and no referer (a search box's text, or
# the previous page's, travels there), so nothing typed reaches the access log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'
max_requests = 5000
max_requests_jitter = 500
