"""Send through a channel and act on the outcome: the same for notifications, mailings and bot replies.

A channel reports what happened (``mailings.channels.SendResult``); this module
is the one place an outcome changes our data: a recipient who is gone (blocked
the bot, forbade the community's messages) stops being an active subscriber,
whoever was sending. Callers record the rest in their own rows.
"""

import logging
from collections.abc import Sequence

from mailings.channels import Channel, Message, SendResult, SendStatus
from mailings.subscribers import subscriber_deactivate
from portal import metrics
from portal.task_retries import TransientError

logger = logging.getLogger(__name__)

BOT_CHANNELS = ("telegram", "vk")


class DeliveryError(TransientError):
    """A message could not go out now (network, rate limit); the task tries again later."""


_METRIC_RESULTS = {SendStatus.SENT: "sent", SendStatus.BLOCKED: "blocked"}


def outcome_record(*, channel: str, address: str, result: SendResult) -> SendResult:
    """Act on one outcome: count it, and unsubscribe a recipient who is gone. Returns ``result``.

    ``citydesk_messages_total{channel,result}`` counts one per send attempt:
    ``sent``, ``blocked`` (the recipient blocked the bot or left), ``failed``
    (any other failure, including one to retry later).
    """
    metrics.messages_total.labels(channel=channel, result=_METRIC_RESULTS.get(result.status, "failed")).inc()
    if result.status == SendStatus.BLOCKED and channel in BOT_CHANNELS:
        subscriber_deactivate(channel=channel, chat_id=address)
        logger.info("%s %s is gone: %s", channel, address, result.error)
    return result


def deliver(
    *, channel: Channel, address: str, message: Message, dedupe_key: str = "", turn_taken: bool = False
) -> SendResult:
    """``channel.send`` plus outcome_record."""
    result = channel.send(address=address, message=message, dedupe_key=dedupe_key, turn_taken=turn_taken)
    return outcome_record(channel=channel.name, address=address, result=result)


def deliver_batch(
    *, channel: Channel, addresses: Sequence[str], message: Message, dedupe_key: str = "", turn_taken: bool = False
) -> dict[str, SendResult]:
    """``channel.send_batch`` plus outcome_record for every address."""
    results = channel.send_batch(addresses=addresses, message=message, dedupe_key=dedupe_key, turn_taken=turn_taken)
    for address, result in results.items():
        outcome_record(channel=channel.name, address=address, result=result)
    return results


def retry_error(result: SendResult) -> DeliveryError:
    """The exception that sends a ``retry`` outcome back to the task."""
    return DeliveryError(result.error, retry_after=result.retry_after)
