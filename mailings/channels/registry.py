import importlib
from collections.abc import Sequence

from django.conf import settings

from mailings.channels.base import Channel

_CHANNELS: dict[str, Channel] = {}
BUILTIN = ("console", "email", "telegram", "vk")


def register_channel(channel: Channel) -> Channel:
    _CHANNELS[channel.name] = channel
    return channel


def get_channel(name: str) -> Channel:
    _load_builtin()
    return _CHANNELS[name]


def channels_for_user(user, *, names: Sequence[str] | None = None) -> list[tuple[Channel, str]]:
    """The channels that can reach ``user``, with the address, in order.

    ``names`` restricts and orders them; by default NOTIFY_CHANNELS
    (Telegram, VK, email) with the console last, so nothing is silently
    dropped in development.
    """
    _load_builtin()
    names = [*settings.NOTIFY_CHANNELS, "console"] if names is None else list(names)
    found: list[tuple[Channel, str]] = []
    for name in names:
        channel = _CHANNELS.get(name)
        if channel is None:
            continue
        address = channel.address_for(user)
        if address:
            found.append((channel, address))
    return found


def _load_builtin() -> None:
    # Importing the modules registers their channels.
    for module in BUILTIN:
        importlib.import_module(f"mailings.channels.{module}")
