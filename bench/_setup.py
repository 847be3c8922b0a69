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
