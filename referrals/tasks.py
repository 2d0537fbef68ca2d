"""Thin Celery tasks for referrals."""

from celery import shared_task

from portal.retries import retry_policy
from referrals import services


@shared_task(**retry_policy(time_limit=60, max_retries=5))
def notify_referrer(referral_id: int) -> None:
    """Email and notify the referrer about a new referral (idempotent: one email, one notification)."""
    services.referral_notify_referrer(referral_id=referral_id)
