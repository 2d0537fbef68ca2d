"""Thin Celery tasks."""

from celery import shared_task

from catalog import importing


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), max_retries=3, retry_backoff=True,
             soft_time_limit=1800, time_limit=1900)  # fmt: skip
def run_import_job(job_id: int) -> None:
    """Run a CSV import job (idempotent: a job runs once whatever the redeliveries)."""
    importing.import_job_run(job_id=job_id)
