"""Thin Celery tasks for billing: each calls one service and is safe to run twice.

Only transient errors are retried (portal.retries): a bug fails the run once
instead of re-running the whole renewal batch.
"""

from celery import shared_task

from billing import services
from portal.retries import retry_policy


@shared_task(**retry_policy(time_limit=600))
def renew_subscriptions() -> dict:
    """Renew (charge + extend) or expire due subscriptions; a period is charged once."""
    return services.subscriptions_renew_due()


@shared_task(**retry_policy(time_limit=600))
def remind_expiring_subscriptions() -> int:
    """Remind owners 3 days and 1 day before a subscription that will not renew ends."""
    return services.subscriptions_remind_expiring()


@shared_task(**retry_policy(time_limit=600))
def snapshot_revenue() -> int:
    """Refresh the daily revenue summary (yesterday and today; the whole history the first time)."""
    return services.revenue_snapshot()


@shared_task(**retry_policy(time_limit=60, max_retries=5))
def notify_staff_topup(payment_id: int) -> None:
    """Tell staff about a paid top-up (deduplicated per payment)."""
    services.payment_notify_staff(payment_id=payment_id)


@shared_task(
    acks_late=True, time_limit=120, soft_time_limit=100, autoretry_for=(Exception,), max_retries=3, retry_backoff=True
)
def expire_pending_payments() -> int:
    """Mark top-ups left unpaid for ROBOKASSA_PENDING_TTL minutes as expired."""
    return services.payments_expire_pending()
