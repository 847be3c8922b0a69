import pytest


@pytest.fixture(autouse=True)
def _tasks_run_in_process(eager_tasks):
    """Tasks run in-process unless a test asks for the real broker (``celery_broker``)."""
