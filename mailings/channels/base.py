from dataclasses import dataclass, field


class DeliveryError(Exception):
    """A temporary failure: the delivery may be retried."""

    def __init__(self, message: str = "", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """The recipient cannot be reached this way (blocked the bot, bad address)."""


@dataclass(frozen=True)
class AppLink:
    """A button to one of the site's pages, opened inside the Mini App where the channel can.

    Telegram: a ``web_app`` button (the page opens in the Mini App webview and
    signs in from its launch data). VK: an ``open_app`` button launching the
    VK Mini App (``VK_APP_ID``) with ``start_param`` as its hash. Elsewhere, or
    when that is not configured: a plain link to ``SITE_URL + path``.
    """

    text: str
    path: str  # a path on the site, e.g. "/bookings/42/"
    start_param: str = ""  # e.g. "booking_42" (portal.miniapp_start)

    def url(self) -> str:
        from django.conf import settings

        return settings.SITE_URL + self.path


@dataclass
class Message:
    subject: str
    text: str
    html: str | None = None
    buttons: list[tuple[str, str]] = field(default_factory=list)
    app_link: AppLink | None = None


class Channel:
    """Base class of a delivery channel."""

    name: str = ""

    def address_for(self, user) -> str | None:
        """Where this channel reaches ``user``, or None when it cannot."""
        raise NotImplementedError

    def send(self, *, address: str, message: Message) -> None:
        """Deliver or raise DeliveryError / PermanentDeliveryError."""
        raise NotImplementedError
