"""Celery tasks (queue ``imports``, routed in settings): thin interfaces over ``services``.

Tasks take ids and are safe to run twice: a run is claimed by a conditional update
(the check) or under its row lock (the write), so a duplicate message finds it done.
"""

from celery import shared_task

from . import services

# A 1,000,000-row file takes minutes on a loaded machine: longer limits than the default.
# Under the broker's visibility timeout (3600 s), or Redis would hand the message to a second worker.
LIMITS = {"soft_time_limit": 3000, "time_limit": 3300}


@shared_task(name="imports.tasks.check_run", **LIMITS)
def check_run(run_id: int) -> str:
    return services.check_run(run_id=run_id).status


@shared_task(name="imports.tasks.write_run", **LIMITS)
def write_run(run_id: int) -> str:
    return services.write_run(run_id=run_id).status


@shared_task(name="imports.tasks.expire_runs")
def expire_runs() -> int:
    """Runs never confirmed expire (KENPO_IMPORT_RUN_EXPIRY_DAYS); their uploads are deleted."""
    return services.expire_runs()


@shared_task(name="imports.tasks.resume_stalled")
def resume_stalled() -> list[int]:
    """Checks and writes whose worker died are queued again (a dead write kept nothing)."""
    return services.resume_stalled()


@shared_task(name="imports.tasks.clean_up_run")
def clean_up_run(run_id: int) -> bool:
    """A written run's staged rows and upload are deleted (after the write's commit)."""
    return services.clean_up_confirmed(run_id=run_id)


@shared_task(name="imports.tasks.clean_up_confirmed_runs")
def clean_up_confirmed_runs() -> list[int]:
    """Beat: finishes the clean-up of written runs whose worker died before it."""
    return services.clean_up_confirmed_runs()
