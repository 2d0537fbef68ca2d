"""Thin Celery tasks for notifications and mailings."""

from celery import shared_task

from mailings.channels import DeliveryError


@shared_task(
    acks_late=True,
    autoretry_for=(DeliveryError,),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
    time_limit=120,
    soft_time_limit=100,
)
def deliver_notification(notification_id: int) -> None:
    from mailings.services import notification_deliver

    notification_deliver(notification_id=notification_id)


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def dispatch_due_mailings() -> None:
    """Claim due mailings and fan out their deliveries (mailings feature)."""
