"""Thin Celery tasks."""

from celery import shared_task

from catalog import importing
from portal.retries import retry_policy


@shared_task(**retry_policy(time_limit=1900, max_retries=3, backoff_max=60))
def run_import_job(job_id: int) -> None:
    """Run a CSV import job (idempotent: a job runs once whatever the redeliveries)."""
    importing.import_job_run(job_id=job_id)
