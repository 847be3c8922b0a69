import pytest


@pytest.fixture(autouse=True)
def _tasks_run_in_process(settings):
    """Tasks enqueued by the code under test run in-process (eager), even where REDIS_URL
    is set (CI); the real-worker tests switch this off through ``celery_broker``."""
    from kenpo_portal.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.task_always_eager = old
