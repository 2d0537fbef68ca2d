from dataclasses import dataclass, field


class DeliveryError(Exception):
    """A temporary failure: the delivery may be retried."""

    def __init__(self, message: str = "", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """The recipient cannot be reached this way (blocked the bot, bad address)."""


@dataclass
class Message:
    subject: str
    text: str
    html: str | None = None
    buttons: list[tuple[str, str]] = field(default_factory=list)


class Channel:
    """Base class of a delivery channel."""

    name: str = ""

    def address_for(self, user) -> str | None:
        """Where this channel reaches ``user``, or None when it cannot."""
        raise NotImplementedError

    def send(self, *, address: str, message: Message) -> None:
        """Deliver or raise DeliveryError / PermanentDeliveryError."""
        raise NotImplementedError
