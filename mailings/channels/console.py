import logging
import sys

from mailings.channels.base import Channel, Message
from mailings.channels.registry import register_channel

logger = logging.getLogger("citydesk.console_channel")


class ConsoleChannel(Channel):
    """Development channel: prints the message to the process's stdout."""

    name = "console"

    def address_for(self, user) -> str:
        return f"user:{user.pk}"

    def send(self, *, address: str, message: Message) -> None:
        sys.stdout.write(f"[notification to {address}] {message.subject}\n{message.text}\n\n")
        sys.stdout.flush()


register_channel(ConsoleChannel())
