"""Thin Celery tasks for referrals."""

from celery import shared_task

from referrals import services


@shared_task(
    acks_late=True,
    time_limit=60,
    soft_time_limit=50,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def notify_referrer(referral_id: int) -> None:
    """Email and notify the referrer about a new referral (idempotent: one email, one notification)."""
    services.referral_notify_referrer(referral_id=referral_id)
