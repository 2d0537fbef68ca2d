"""Delivery channels for transactional notifications.

A channel answers two questions: can it reach this user (``address_for``), and
``send`` a rendered message there. notify() walks settings.NOTIFY_CHANNELS in
order and uses the first channel that can reach the user; the console channel
is the last resort so nothing is silently dropped in development.
"""

from mailings.channels.base import AppLink, Channel, DeliveryError, PermanentDeliveryError
from mailings.channels.registry import channel_for_user, channels_for_user, get_channel, register_channel

__all__ = [
    "AppLink",
    "Channel",
    "DeliveryError",
    "PermanentDeliveryError",
    "channel_for_user",
    "channels_for_user",
    "get_channel",
    "register_channel",
]
