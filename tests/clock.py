"""The test run's clock (KENPO_TEST_TODAY in the root conftest), shared with the worker
processes the tests start.

``python -m tests.clock ARGS`` runs ``celery ARGS`` with the clock of the test process
that started it: that process passes its current time as KENPO_TEST_NOW.
"""

import os
import sys
from datetime import datetime

import time_machine


def travel_to(moment: datetime) -> time_machine.travel:
    """Move this process's clock to ``moment`` and let it tick from there."""
    traveller = time_machine.travel(moment, tick=True)
    traveller.start()
    return traveller


def environ() -> dict[str, str]:
    """What a child process needs to share this clock (nothing when it is the real one):
    the run's KENPO_TEST_TODAY, or a test's own ``time_machine.move_to``."""
    if not time_machine.escape_hatch.is_travelling():
        return {}
    from django.utils import timezone

    return {"KENPO_TEST_NOW": timezone.now().isoformat()}


if __name__ == "__main__":
    if os.environ.get("KENPO_TEST_NOW"):
        travel_to(datetime.fromisoformat(os.environ["KENPO_TEST_NOW"]))
    from celery.__main__ import main

    sys.argv[0] = "celery"
    sys.exit(main())
