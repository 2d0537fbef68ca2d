"""Thin Celery tasks for billing."""

from celery import shared_task


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def renew_subscriptions() -> None:
    """Renew or expire due subscriptions (billing feature)."""


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def remind_expiring_subscriptions() -> None:
    """Remind owners of subscriptions that will lapse (billing feature)."""


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def snapshot_revenue() -> None:
    """Refresh the daily revenue summary (billing feature)."""


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def notify_staff_topup(payment_id: int) -> None:
    """Tell staff about a paid top-up (billing feature)."""
