import pytest


@pytest.fixture(autouse=True)
def _tasks_run_in_process(eager_tasks):
    """Tasks run in-process unless a test asks for the real broker (``celery_broker``)."""


@pytest.fixture(autouse=True)
def _small_societies_change_a_large_share(settings):
    """The societies of these tests have a handful of persons, so any file changes a large share
    of them: the tests about the large-change warning set their own threshold."""
    settings.KENPO_IMPORT_LARGE_CHANGE_PERCENT = 1000
