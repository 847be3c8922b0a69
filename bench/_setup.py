"""What the in-process benchmarks share: Django set up from the repository root, and a timer.

Import it first (``import _setup``), before anything from Django or the project.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenpo_portal.settings")

import django

django.setup()


def timed(label: str, fn, runs: int, *, width: int = 58) -> float:
    """Run ``fn`` ``runs`` times, print the median and the maximum, return the maximum (s)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    print(f"{label:<{width}} median {statistics.median(times) * 1000:7.0f} ms   max {max(times) * 1000:7.0f} ms",
          flush=True)
    return max(times)


def time_pages(client, pages: list[tuple[str, str]], runs: int) -> float:
    """GET each ``(label, url)`` ``runs`` times with ``client`` (each must answer 200), print
    its times and the worst page against the 1 s target; return the worst (s)."""
    worst = 0.0
    for label, url in pages:
        def get(url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        worst = max(worst, timed(label, get, runs))
    print(f"worst page: {worst * 1000:.0f} ms ({'OK' if worst < 1 else 'OVER'} the 1 s target)")
    return worst
