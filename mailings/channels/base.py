"""What every delivery channel offers, and the one way it reports an outcome.

Transactional notifications and broadcast mailings send through the same
channel objects:

- ``address_for(user)``: where the channel reaches a user, or None;
- ``send(address=, message=, dedupe_key=)``: one message (text/HTML, ordered
  URL buttons, optional media) → a SendResult;
- ``send_batch(addresses=, message=, dedupe_key=)``: the same message to up to
  ``batch_size`` addresses in as few platform calls as the platform allows
  (VK: one ``messages.send`` for 100 peers) → a SendResult per address;
- ``upload_media(media)``: upload once before sending where the platform needs
  it (VK) → a SendResult whose ``media_handle`` every later message reuses;
  where the first send uploads (Telegram) that send reports the handle;
- ``take_turn(address)``: wait for the shared rate limiter, so a caller can
  take the slot before it claims a row (``send(..., turn_taken=True)``).

A channel never raises for a failed delivery and never decides what it means
for our data: it reports ``sent``, ``failed`` (permanent: a bad address),
``blocked`` (the recipient is gone: blocked the bot, forbade messages) or
``retry`` (temporary: network, rate limit; with ``retry_after`` when the
platform named a wait). ``mailings.sending`` acts on the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# A platform's "retry after N seconds" up to this long is waited out in place,
# at most MAX_SHORT_WAITS times per message; anything longer goes back to the
# task, which retries later with backoff.
SHORT_RETRY_AFTER = 5.0
MAX_SHORT_WAITS = 3
# How long a send waits for the shared rate limiter before reporting "retry".
RATE_LIMIT_WAIT = 60.0


class SendStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    RETRY = "retry"


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    error: str = ""
    retry_after: float | None = None
    # A handle the platform gave for the message's media, reusable by later messages.
    media_handle: str = ""

    @classmethod
    def sent(cls, *, media_handle: str = "") -> SendResult:
        return cls(SendStatus.SENT, media_handle=media_handle)

    @classmethod
    def failed(cls, error: str) -> SendResult:
        return cls(SendStatus.FAILED, error)

    @classmethod
    def blocked(cls, error: str) -> SendResult:
        return cls(SendStatus.BLOCKED, error)

    @classmethod
    def retry(cls, error: str, *, retry_after: float | None = None) -> SendResult:
        return cls(SendStatus.RETRY, error, retry_after=retry_after)


class SendFailed(Exception):
    """Carries a non-sent SendResult out of a channel's nested platform calls (never leaves the channel)."""

    def __init__(self, result: SendResult):
        super().__init__(result.error)
        self.result = result


@dataclass(frozen=True)
class Media:
    """One photo, animation or video; ``handle`` is the platform's id of an earlier upload."""

    kind: str  # photo / animation / video
    filename: str = "media"
    content: bytes = b""
    handle: str = ""


@dataclass(frozen=True)
class AppLink:
    """A button to one of the site's pages, opened inside the Mini App where the channel can.

    Telegram: a ``web_app`` button (the page opens in the Mini App webview and
    signs in from its launch data). VK: an ``open_app`` button launching the
    VK Mini App (``VK_APP_ID``) with ``start_param`` as its hash. Elsewhere, or
    when that is not configured: a plain link to ``SITE_URL + path``.
    """

    text: StrOrPromise  # may be lazy: notify() stores it in the site's language
    path: str  # a path on the site, e.g. "/bookings/42/"
    start_param: str = ""  # e.g. "booking_42" (portal.miniapp_start)

    def url(self) -> str:
        return settings.SITE_URL + self.path


@dataclass
class Message:
    """A message as every channel needs it; each renders what it supports."""

    subject: str = ""
    text: str = ""  # plain text (VK, the email body)
    html: str | None = None  # the same in Telegram's HTML subset (Telegram, the email's HTML part)
    email_html: str | None = None  # a whole HTML email, when the message has one of its own
    buttons: Sequence[tuple[str, str]] = field(default_factory=tuple)  # ordered (text, url)
    media: Media | None = None
    app_link: AppLink | None = None  # a button to the page the message is about (notifications)


def wait_out(retry_after: float | None, waits: int) -> bool:
    """Sleep through a short ``retry_after``; False when the wait is long or waited too often."""
    if retry_after is None or retry_after > SHORT_RETRY_AFTER or waits >= MAX_SHORT_WAITS:
        return False
    time.sleep(max(retry_after, 0.0))
    return True


class Channel:
    """Base class of a delivery channel (see the module docstring)."""

    name: str = ""
    # Addresses one send_batch call takes.
    batch_size: int = 1
    # Sending the same message again with the same dedupe_key reaches nobody
    # twice (VK's random_id), so an interrupted send may simply be repeated.
    resend_is_deduplicated: bool = False

    def address_for(self, user) -> str | None:
        """Where this channel reaches ``user``, or None when it cannot."""
        raise NotImplementedError

    def take_turn(self, address: str) -> bool:
        """Wait for the rate limiter's slot for one message to ``address``; False when none came in time."""
        return True

    def upload_media(self, media: Media) -> SendResult:
        """Upload ``media`` ahead of sending: ``sent`` with the handle in ``media_handle``.

        An empty handle means the platform takes the bytes with the first message
        (and reports the handle in that send's result) or shows no such media.
        """
        return SendResult.sent()

    def send(self, *, address: str, message: Message, dedupe_key: str = "", turn_taken: bool = False) -> SendResult:
        """Deliver ``message`` to ``address``; never raises for a failed delivery."""
        raise NotImplementedError

    def send_batch(
        self, *, addresses: Sequence[str], message: Message, dedupe_key: str = "", turn_taken: bool = False
    ) -> dict[str, SendResult]:
        """Deliver ``message`` to each address (at most ``batch_size``); a result per address.

        Channels without a batch call send one by one; after a ``retry`` the
        rest are not tried and report the same ``retry``.
        """
        results: dict[str, SendResult] = {}
        for index, address in enumerate(addresses):
            result = self.send(
                address=address,
                message=message,
                dedupe_key=f"{dedupe_key}:{address}" if dedupe_key else "",
                turn_taken=turn_taken and index == 0,
            )
            results[address] = result
            if result.status == SendStatus.RETRY:
                results.update(dict.fromkeys(addresses[index + 1 :], result))
                break
        return results
