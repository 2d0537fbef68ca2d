"""Thin Celery tasks for referrals."""

from celery import shared_task

from portal.task_retries import RetryTransient
from referrals import services


@shared_task(base=RetryTransient, acks_late=True, time_limit=60, soft_time_limit=50, max_retries=5, retry_backoff=10)
def notify_referrer(referral_id: int) -> None:
    """Email and notify the referrer about a new referral (idempotent: one email, one notification)."""
    services.referral_notify_referrer(referral_id=referral_id)
