from django.conf import settings

from mailings.channels.base import Channel

_CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> Channel:
    _CHANNELS[channel.name] = channel
    return channel


def get_channel(name: str) -> Channel:
    _load_builtin()
    return _CHANNELS[name]


def channels_for_user(user) -> list[tuple[Channel, str]]:
    """Every channel in NOTIFY_CHANNELS order that can reach ``user``, console last."""
    _load_builtin()
    found = []
    for name in settings.NOTIFY_CHANNELS:
        channel = _CHANNELS.get(name)
        if channel is None:
            continue
        address = channel.address_for(user)
        if address:
            found.append((channel, address))
    console = _CHANNELS["console"]
    found.append((console, console.address_for(user)))
    return found


def channel_for_user(user) -> tuple[Channel, str]:
    """The preferred channel that can reach ``user``, and the address."""
    return channels_for_user(user)[0]


def _load_builtin() -> None:
    # Importing the modules registers their channels.
    import importlib

    for module in ("console", "email", "telegram", "vk"):
        try:
            importlib.import_module(f"mailings.channels.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mailings.channels.{module}":
                raise
