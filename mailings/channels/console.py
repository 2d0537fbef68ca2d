import sys

from mailings.channels.base import Channel, Message, SendResult
from mailings.channels.registry import register_channel


class ConsoleChannel(Channel):
    """Development channel: prints the message to the process's stdout."""

    name = "console"

    def address_for(self, user) -> str:
        return f"user:{user.pk}"

    def send(self, *, address: str, message: Message, dedupe_key: str = "", turn_taken: bool = False) -> SendResult:
        sys.stdout.write(f"[notification to {address}] {message.subject}\n{message.text}\n\n")
        sys.stdout.flush()
        return SendResult.sent()


register_channel(ConsoleChannel())
