"""Thin Celery tasks for notifications, mailings and the bots.

Retries follow ``portal.task_retries`` (docs/architecture.md, "Retries"): only a
transient failure (a channel's ``retry`` outcome raised as DeliveryError, a
lock or connection timeout) is retried, with doubling waits up to a cap;
anything else fails the task once and is logged.
"""

import os
import socket

from celery import shared_task

# The services enqueue these tasks: both import the module, not its names.
from mailings import broadcasts, notifications
from mailings.channels import Message, SendStatus, get_channel
from mailings.sending import deliver, retry_error
from portal.task_retries import retry_transient_policy

# How long each kind of task keeps retrying a transient failure (docs/architecture.md, "Retries").
# A notification: about 1.5 hours while its channel fails temporarily.
NOTIFICATION_RETRIES = retry_transient_policy(
    max_retries=8, backoff=30, backoff_max=1800, time_limit=120, soft_time_limit=100
)
# A mailing batch: rows already sent are not resent by a retry.
BATCH_RETRIES = retry_transient_policy(max_retries=10, backoff=5, backoff_max=300, time_limit=900, soft_time_limit=840)
# A Telegram update from the webhook: the database refusing for a moment.
BOT_UPDATE_RETRIES = retry_transient_policy(max_retries=3, backoff=2, backoff_max=30, time_limit=60, soft_time_limit=50)
# A VK bot reply: the same random_id makes a resend harmless.
BOT_REPLY_RETRIES = retry_transient_policy(max_retries=5, backoff=5, backoff_max=120, time_limit=60, soft_time_limit=50)


@shared_task(**NOTIFICATION_RETRIES)
def deliver_notification(notification_id: int) -> None:
    """Send one notification (retried for about 1.5 hours while its channel fails temporarily)."""
    notifications.notification_deliver(notification_id=notification_id)


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def dispatch_due_mailings() -> list[int]:
    """Claim due mailings, list their deliveries and fan out batches; resume stalled ones.

    Not retried: beat runs it again within a minute.
    """
    return broadcasts.mailings_dispatch_due()


@shared_task(bind=True, **BATCH_RETRIES)
def send_mailing_batch(self, mailing_id: int, channel: str, first_id: int, last_id: int) -> dict:
    """Send the pending deliveries of a mailing with ids in [first_id, last_id] on ``channel``."""
    worker = f"{socket.gethostname()}:{os.getpid()}:{self.request.id or ''}"
    return broadcasts.mailing_send_batch(
        mailing_id=mailing_id, channel=channel, first_id=first_id, last_id=last_id, worker=worker
    )


@shared_task(**BOT_UPDATE_RETRIES)
def process_telegram_update(update_json: dict) -> None:
    """Run the bot's handlers on one Telegram update (from the webhook)."""
    from mailings.telegram_bot import handle_update  # the bot's handlers import other apps' services

    handle_update(update_json)


@shared_task(**BOT_REPLY_RETRIES)
def vk_send_message(peer_id: int, text: str, random_id: int) -> None:
    """A VK bot reply (greeting) sent outside the callback request; ``random_id`` makes a retry harmless."""
    result = deliver(
        channel=get_channel("vk"), address=str(peer_id), message=Message(text=text), dedupe_key=f"bot:{random_id}"
    )
    if result.status == SendStatus.RETRY:
        raise retry_error(result)
