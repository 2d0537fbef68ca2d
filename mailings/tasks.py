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
def dispatch_due_mailings() -> list[int]:
    """Claim due mailings, list their deliveries and fan out batches; resume stalled ones."""
    from mailings.services import mailings_dispatch_due

    return mailings_dispatch_due()


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(DeliveryError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=10,
    time_limit=900,
    soft_time_limit=840,
)
def send_mailing_batch(self, mailing_id: int, channel: str, first_id: int, last_id: int) -> dict:
    """Send the pending deliveries of a mailing with ids in [first_id, last_id] on ``channel``."""
    import os
    import socket

    from mailings.services import mailing_send_batch

    worker = f"{socket.gethostname()}:{os.getpid()}:{self.request.id or ''}"
    return mailing_send_batch(mailing_id=mailing_id, channel=channel, first_id=first_id, last_id=last_id, worker=worker)


@shared_task(acks_late=True, max_retries=3, time_limit=60, soft_time_limit=50)
def process_telegram_update(update_json: dict) -> None:
    """Run the bot's handlers on one Telegram update (from the webhook)."""
    from mailings.telegram_bot import handle_update

    handle_update(update_json)


@shared_task(
    acks_late=True, autoretry_for=(DeliveryError,), retry_backoff=5, max_retries=5, time_limit=60, soft_time_limit=50
)
def vk_send_message(peer_id: int, text: str, random_id: int) -> None:
    """A VK bot reply (greeting) sent outside the callback request."""
    from mailings.channels import vk

    vk.send_to_peers(peer_ids=[peer_id], text=text, random_id=random_id)
