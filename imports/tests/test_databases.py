"""The same imports write exactly the same on PostgreSQL (COPY and SQL) and on SQLite (the
embedded default's plainer path)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from . import scenario

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_it_writes_the_same_on_sqlite_and_postgresql(tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("compares PostgreSQL with SQLite: run the suite on PostgreSQL")
    on_postgresql = json.loads(json.dumps(scenario.run(), sort_keys=True))

    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "CACHE_REDIS_URL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", MEDIA_ROOT=str(tmp_path / "media"),
               CELERY_TASK_ALWAYS_EAGER="1")
    done = subprocess.run([sys.executable, "-m", "imports.tests.scenario"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    on_sqlite = json.loads(done.stdout.strip().splitlines()[-1])

    assert on_sqlite["runs"] == on_postgresql["runs"]
    assert on_sqlite["households"] == on_postgresql["households"]
    assert on_sqlite["persons"] == on_postgresql["persons"]


def test_the_scenario_covers_every_outcome():
    snapshot = scenario.run()
    counts = [run["counts"] for run in snapshot["runs"]]
    assert counts[0] == {"created": 7, "households_created": 2}
    assert counts[1] == {"households_created": 1, "households_updated": 1, "created": 1, "updated": 1, "ended": 1,
                         "unchanged": 2}
    assert counts[2] == {"updated": 5, "kept": 2, "unchanged": 1}
    persons = snapshot["persons"]
    # Registration arrived for a card whose dates were known: its derived dates follow rules.py.
    assert persons["11-1-00"]["card"]["effective_expires_on"] == "2026-11-14"
    assert persons["11-1-00"]["card"]["renewal_opens_on"] == "2026-08-15"
    assert persons["11-1-00"]["card"]["grace_ends_on"] == "2027-02-28"
    # The tie rule: the member's statement of the file's own day is kept.
    assert persons["11-1-01"]["card"]["registration_source"] == "member"
    assert persons["11-1-01"]["history"] == []
    assert persons["11-1-04"]["history"][0]["after"] == {
        "has_card": True, "registered": True, "registration_source": "national_file", "registration_as_of": "2026-10-31"}
    assert persons["11-1-02"]["history"][0] == {
        "source": "national_file", "by": "scenario-clerk",
        "before": {"has_card": None, "registered": False, "registration_source": "staff", "registration_as_of": None},
        "after": {"has_card": True, "registered": True, "registration_source": "national_file",
                  "registration_as_of": "2026-10-31"},
    }
    # A roster without the optional columns leaves the address and 任意継続's end as they were.
    households = snapshot["households"]
    assert households["11-1"]["employer"] == "E2" and households["11-1"]["postal_code"] == "100-0001"
    assert households["22-2"]["voluntary_continuation_ends_on"] == "2027-08-31"
    assert households["22-2"]["postal_code"] == "150-0001"
    assert persons["11-1-01"]["my_number_registered"] is False
    assert persons["11-1-02"]["my_number_registered"] is True  # blank: the default for a new person
