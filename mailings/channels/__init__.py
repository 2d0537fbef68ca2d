"""Delivery channels (Telegram, VK, email, console), shared by notifications and mailings.

The interface and the outcome type are in ``base``; ``registry`` finds a
channel by name and the channels that reach a user. ``mailings.sending`` is
the only caller that acts on an outcome.
"""

from mailings.channels.base import AppLink, Channel, Media, Message, SendResult, SendStatus
from mailings.channels.registry import channels_for_user, get_channel, register_channel

__all__ = [
    "AppLink",
    "Channel",
    "Media",
    "Message",
    "SendResult",
    "SendStatus",
    "channels_for_user",
    "get_channel",
    "register_channel",
]
