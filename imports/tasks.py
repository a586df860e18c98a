from celery import shared_task


@shared_task
def import_run(job_id: int) -> None:
    """Imports a confirmed file (jobs.job_run: at most once, all or nothing)."""
    from imports.jobs import job_run

    job_run(job_id)
