"""Background work of the core: counting an admin list too long to count in a request."""

from celery import shared_task

from . import pagination


@shared_task(name="core.tasks.count_list", ignore_result=True, soft_time_limit=330, time_limit=360)
def count_list(key: str) -> None:
    """Count the list query kept under ``key`` (``core.pagination.request_count``)."""
    if isinstance(key, str) and key.startswith(pagination.KEY_PREFIX):
        pagination.count_by_job(key)
