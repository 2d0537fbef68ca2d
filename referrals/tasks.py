"""Thin Celery tasks for referrals."""

from celery import shared_task


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def notify_referrer(referral_id: int) -> None:
    """Email and notify the referrer about a new referral (referrals feature)."""
