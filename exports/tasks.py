"""Celery tasks (queue ``imports``): thin interfaces over ``services``."""

from celery import shared_task

from . import services


@shared_task(name="exports.tasks.run_export", soft_time_limit=3000, time_limit=3300)
def run_export(job_id: int) -> str:
    return services.export_run(job_id=job_id).status


@shared_task(name="exports.tasks.delete_old_files")
def delete_old_files() -> int:
    return services.delete_old_files()
