import pytest


@pytest.fixture(autouse=True)
def _tasks_run_in_process(eager_tasks):
    """Tasks run in-process: an approved act's job runs before the request returns."""
