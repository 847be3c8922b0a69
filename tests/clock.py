"""The test run's clock (KENPO_TEST_TODAY in the root conftest), shared with the worker
processes the tests start.

``python -m tests.clock ARGS`` runs ``celery ARGS`` with the clock of the test process
that started it: that process passes how far its clock is from the real one, in
seconds, as KENPO_TEST_CLOCK_OFFSET. Passing the offset rather than the moved time
keeps both clocks equal to the microsecond: a moved time would be stale by however
long the worker took to start (a second or more on a loaded machine), and a retry
the test made due "now" would not yet be due on the worker's clock.
"""

import os
import sys
import time
from datetime import UTC, datetime

import time_machine


def travel_to(moment: datetime) -> time_machine.travel:
    """Move this process's clock to ``moment`` and let it tick from there.

    time-machine starts the ticking at the first reading of the clock, not at ``start()``:
    read it at once, or the clock would stand still for as long as the imports that
    follow take (a worker's clock then lags its test's by a second or more)."""
    traveller = time_machine.travel(moment, tick=True)
    traveller.start()
    time.time()
    return traveller


def offset() -> float:
    """How many seconds this process's clock is ahead of the real one (0 when it is real)."""
    if not time_machine.escape_hatch.is_travelling():
        return 0.0
    return time.time() - time_machine.escape_hatch.time.time()


def environ() -> dict[str, str]:
    """What a child process needs to share this clock (nothing when it is the real one):
    the run's KENPO_TEST_TODAY, or a test's own ``time_machine.move_to``."""
    if not time_machine.escape_hatch.is_travelling():
        return {}
    return {"KENPO_TEST_CLOCK_OFFSET": repr(offset())}


if __name__ == "__main__":
    if os.environ.get("KENPO_TEST_CLOCK_OFFSET"):
        travel_to(datetime.fromtimestamp(time.time() + float(os.environ["KENPO_TEST_CLOCK_OFFSET"]), tz=UTC))
    from celery.__main__ import main

    sys.argv[0] = "celery"
    sys.exit(main())
