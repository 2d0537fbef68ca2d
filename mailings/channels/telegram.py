"""Telegram channel: python-telegram-bot's Bot pointed at TELEGRAM_API_BASE_URL.

The Bot is async; we drive it from sync code (Celery tasks, views) with one
event loop per process and thread, reused for every call, and one Bot (with its
httpx connection pool) per loop. Every API call first takes a slot from the
shared rate limiter (1/s per chat, 30/s overall), then maps errors:

- RetryAfter (429) → wait ``retry_after`` and try again;
- Forbidden (blocked, deactivated) → RecipientGone, the subscriber turns inactive;
- BadRequest → PermanentDeliveryError with Telegram's reason;
- TimedOut / NetworkError → retried with backoff, then a temporary DeliveryError.
"""

import asyncio
import os
import threading
import time
from dataclasses import dataclass

from django.conf import settings

# Durations as datetime.timedelta (the library's future default); without this
# every RetryAfter warns on construction. Our code reads both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, WebAppInfo
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from mailings.channels.base import Channel, DeliveryError, Message, PermanentDeliveryError
from mailings.channels.registry import register_channel
from mailings.rate_limit import acquire_telegram
from mailings.telegram_html import CAPTION_LIMIT, TelegramHTMLError, escape, sanitize, validate_html, visible_length

MAX_RETRY_AFTER_ATTEMPTS = 5
NETWORK_BACKOFF = (0.5, 1.0, 2.0)


class RecipientGone(PermanentDeliveryError):
    """The user blocked the bot or deleted the account: stop writing to them."""


@dataclass
class Media:
    kind: str  # photo / animation / video
    file_id: str = ""
    content: bytes = b""
    filename: str = "media"


_local = threading.local()


def _runtime():
    # A forked worker must not reuse its parent's loop or sockets.
    if getattr(_local, "pid", None) != os.getpid():
        _local.pid = os.getpid()
        _local.loop = asyncio.new_event_loop()
        _local.bots = {}
    return _local


def get_bot() -> Bot:
    """The Bot of this process/thread for the configured token and API base URL."""
    runtime = _runtime()
    key = (settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_BASE_URL)
    bot = runtime.bots.get(key)
    if bot is None:
        # One thread sends one request at a time; a small pool is plenty.
        request = HTTPXRequest(connection_pool_size=4, connect_timeout=5, read_timeout=15, pool_timeout=5)
        bot = Bot(token=settings.TELEGRAM_BOT_TOKEN, base_url=settings.TELEGRAM_API_BASE_URL, request=request)
        runtime.bots[key] = bot
    return bot


def run(coro):
    """Run a Bot coroutine to completion on this thread's loop."""
    return _runtime().loop.run_until_complete(coro)


def is_configured() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN)


def call(chat_id, method: str, /, *, rate_limited: bool = True, **kwargs):
    """Call ``Bot.<method>(chat_id=…, **kwargs)`` with rate limiting and error mapping."""
    bot = get_bot()
    retry_after_attempts = 0
    network_attempt = 0
    first_attempt = True
    while True:
        if rate_limited or not first_attempt:
            try:
                acquire_telegram(chat_id)
            except TimeoutError as exc:
                raise DeliveryError(str(exc)) from exc
        first_attempt = False
        try:
            return run(getattr(bot, method)(chat_id=chat_id, **kwargs))
        except RetryAfter as exc:
            retry_after_attempts += 1
            delay = exc.retry_after
            delay = delay.total_seconds() if hasattr(delay, "total_seconds") else delay
            if retry_after_attempts > MAX_RETRY_AFTER_ATTEMPTS:
                raise DeliveryError(f"Too many requests: {exc}", retry_after=float(delay)) from exc
            time.sleep(float(delay))
        except Forbidden as exc:
            raise RecipientGone(exc.message) from exc
        except BadRequest as exc:
            raise PermanentDeliveryError(exc.message) from exc
        except ChatMigrated as exc:
            raise PermanentDeliveryError(f"chat migrated to {exc.new_chat_id}") from exc
        except NetworkError as exc:  # includes TimedOut
            if network_attempt >= len(NETWORK_BACKOFF):
                raise DeliveryError(f"Network error: {exc.message}") from exc
            time.sleep(NETWORK_BACKOFF[network_attempt])
            network_attempt += 1
        except TelegramError as exc:
            raise DeliveryError(exc.message) from exc


def keyboard(buttons) -> InlineKeyboardMarkup | None:
    """URL buttons (``[(text, url), …]``) as an inline keyboard, one per row, in order."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, url=url)] for text, url in buttons])


def app_link_markup(app_link) -> InlineKeyboardMarkup | None:
    """A ``web_app`` button opening ``app_link``'s page in the Mini App (HTTPS only, as Telegram requires).

    Telegram allows web_app buttons in private chats only, which is where
    notifications go.
    """
    url = app_link.url() if app_link else ""
    if not url.startswith("https://"):
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(app_link.text, web_app=WebAppInfo(url=url))]])


def _file_id(message, kind: str) -> str:
    if kind == "photo":
        return message.photo[-1].file_id if message.photo else ""
    item = getattr(message, kind, None)
    return item.file_id if item else ""


def send_rich(
    *,
    chat_id,
    text: str,
    buttons=(),
    media: Media | None = None,
    parse_mode=ParseMode.HTML,
    first_slot_taken: bool = False,
    markup: InlineKeyboardMarkup | None = None,
) -> str:
    """Send an HTML text with optional media and URL buttons; return the media's file_id.

    With media the text goes as its caption; a caption over Telegram's 1024
    characters makes it two messages: the media alone, then the text with the
    buttons. ``first_slot_taken``: the caller already took the rate-limit slot
    for the first message. ``markup`` replaces the URL buttons' keyboard.
    """
    markup = markup or keyboard(buttons)
    first = not first_slot_taken
    if media is None:
        call(chat_id, "send_message", rate_limited=first, text=text, parse_mode=parse_mode, reply_markup=markup)
        return ""
    payload = media.file_id or InputFile(media.content, filename=media.filename)
    method = f"send_{media.kind}"
    if visible_length(text) <= CAPTION_LIMIT:
        message = call(
            chat_id,
            method,
            rate_limited=first,
            **{media.kind: payload},
            caption=text,
            parse_mode=parse_mode,
            reply_markup=markup,
        )
        return _file_id(message, media.kind)
    message = call(chat_id, method, rate_limited=first, **{media.kind: payload})
    call(chat_id, "send_message", text=text, parse_mode=parse_mode, reply_markup=markup)
    return _file_id(message, media.kind)


def subscriber_chat_for(user) -> str | None:
    from mailings.models import BotSubscriber

    return (
        BotSubscriber.objects.filter(user=user, channel="telegram", is_active=True)
        .order_by("-subscribed_at")
        .values_list("chat_id", flat=True)
        .first()
    )


class TelegramChannel(Channel):
    name = "telegram"

    def address_for(self, user) -> str | None:
        if not is_configured():
            return None
        return subscriber_chat_for(user)

    def send(self, *, address: str, message: Message) -> None:
        # Notification templates are rendered with autoescaping, so their text is
        # already valid HTML for Telegram unless a template wrote raw markup.
        text = message.text
        try:
            validate_html(text)
        except TelegramHTMLError:
            text = escape(text)
        else:
            text = sanitize(text)
        try:
            send_rich(chat_id=address, text=text, buttons=message.buttons, markup=app_link_markup(message.app_link))
        except RecipientGone:
            from mailings.services import subscriber_deactivate

            subscriber_deactivate(channel="telegram", chat_id=address)
            raise


register_channel(TelegramChannel())
