"""Telegram channel: python-telegram-bot's Bot pointed at TELEGRAM_API_BASE_URL.

The Bot is async; we drive it from sync code (Celery tasks, views) with one
event loop per process and thread, reused for every call, and one Bot (with its
httpx connection pool) per loop. Every API call first takes a slot from the
shared rate limiter (1/s per chat, 30/s overall); its errors become outcomes:

- RetryAfter (429) → a short ``retry_after`` is waited out and the call
  repeated, a long one is reported as ``retry`` with that wait;
- Forbidden (blocked, deactivated) → ``blocked``;
- BadRequest, ChatMigrated → ``failed`` with Telegram's reason;
- TimedOut / NetworkError and anything else from the API → ``retry``.
"""

import asyncio
import os
import threading

from django.conf import settings

# Durations as datetime.timedelta (the library's future default); without this
# every RetryAfter warns on construction. Our code reads both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, WebAppInfo
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from mailings.channels.base import RATE_LIMIT_WAIT, Channel, Message, SendFailed, SendResult, wait_out
from mailings.channels.registry import register_channel
from mailings.rate_limit import acquire_telegram
from mailings.selectors import subscriber_chat_for
from mailings.telegram_html import CAPTION_LIMIT, TelegramHTMLError, escape, sanitize, validate_html, visible_length

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


def _take_turn(chat_id) -> bool:
    try:
        acquire_telegram(chat_id, timeout=RATE_LIMIT_WAIT)
    except TimeoutError:
        return False
    return True


def _seconds(value) -> float:
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


def _call(chat_id, method: str, /, *, turn_taken: bool = False, **kwargs):
    """``Bot.<method>(chat_id=…, **kwargs)``: rate limited; a failure raises SendFailed with its outcome."""
    bot = get_bot()
    waits = 0
    while True:
        if not turn_taken and not _take_turn(chat_id):
            raise SendFailed(SendResult.retry("no rate-limit slot for Telegram in time"))
        turn_taken = False
        try:
            return run(getattr(bot, method)(chat_id=chat_id, **kwargs))
        except RetryAfter as exc:
            retry_after = _seconds(exc.retry_after)
            if not wait_out(retry_after, waits):
                raise SendFailed(SendResult.retry(f"Too many requests: {exc}", retry_after=retry_after)) from exc
            waits += 1
        except Forbidden as exc:
            raise SendFailed(SendResult.blocked(exc.message)) from exc
        except BadRequest as exc:
            raise SendFailed(SendResult.failed(exc.message)) from exc
        except ChatMigrated as exc:
            raise SendFailed(SendResult.failed(f"chat migrated to {exc.new_chat_id}")) from exc
        except NetworkError as exc:  # includes TimedOut
            raise SendFailed(SendResult.retry(f"Network error: {exc.message}")) from exc
        except TelegramError as exc:
            raise SendFailed(SendResult.retry(exc.message)) from exc


def keyboard(buttons) -> InlineKeyboardMarkup | None:
    """URL buttons (``[(text, url), …]``) as an inline keyboard, one per row, in order."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, url=url)] for text, url in buttons])


def _file_id(message, kind: str) -> str:
    if kind == "photo":
        return message.photo[-1].file_id if message.photo else ""
    item = getattr(message, kind, None)
    return item.file_id if item else ""


def _html(message: Message) -> str:
    """The message as Telegram HTML: its HTML part, else its text (escaped unless it is valid markup)."""
    if message.html is not None:
        return sanitize(message.html)  # whatever reaches Telegram is reduced to its subset, whoever built it
    # Notification templates are rendered with autoescaping, so their text is
    # already valid HTML for Telegram unless a template wrote raw markup.
    try:
        validate_html(message.text)
    except TelegramHTMLError:
        return escape(message.text)
    return sanitize(message.text)


def app_link_markup(app_link) -> InlineKeyboardMarkup | None:
    """A ``web_app`` button opening ``app_link``'s page in the Mini App (HTTPS only, as Telegram requires).

    Telegram allows web_app buttons in private chats only, which is where
    notifications go.
    """
    url = app_link.url() if app_link else ""
    if not url.startswith("https://"):
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(app_link.text, web_app=WebAppInfo(url=url))]])


def _send(chat_id, message: Message, *, turn_taken: bool) -> str:
    """Send the text with optional media and URL buttons; return the media's file_id.

    With media the text goes as its caption; a caption over Telegram's 1024
    characters makes it two messages: the media alone, then the text with the
    buttons.
    """
    text, media = _html(message), message.media
    markup = app_link_markup(message.app_link) or keyboard(message.buttons)
    if media is None:
        _call(chat_id, "send_message", turn_taken=turn_taken, text=text, parse_mode=ParseMode.HTML, reply_markup=markup)
        return ""
    payload = media.handle or InputFile(media.content, filename=media.filename)
    method = f"send_{media.kind}"
    if visible_length(text) <= CAPTION_LIMIT:
        sent = _call(
            chat_id,
            method,
            turn_taken=turn_taken,
            **{media.kind: payload},
            caption=text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )
        return _file_id(sent, media.kind)
    sent = _call(chat_id, method, turn_taken=turn_taken, **{media.kind: payload})
    _call(chat_id, "send_message", text=text, parse_mode=ParseMode.HTML, reply_markup=markup)
    return _file_id(sent, media.kind)


def send_reply(*, chat_id, html: str, reply_markup=None) -> SendResult:
    """A bot's answer in a chat, with a keyboard of the bot's own (e.g. the Mini App button)."""
    try:
        _call(chat_id, "send_message", text=html, parse_mode=ParseMode.HTML, reply_markup=reply_markup)
    except SendFailed as failure:
        return failure.result
    return SendResult.sent()


class TelegramChannel(Channel):
    """Media is uploaded with the first message; its file_id comes back in SendResult.media_handle."""

    name = "telegram"

    def address_for(self, user) -> str | None:
        if not is_configured():
            return None
        return subscriber_chat_for(user=user, channel=self.name)

    def take_turn(self, address: str) -> bool:
        return _take_turn(address)

    def send(self, *, address: str, message: Message, dedupe_key: str = "", turn_taken: bool = False) -> SendResult:
        # Telegram has no deduplication key; a row claimed before its send is what prevents repeats.
        try:
            file_id = _send(address, message, turn_taken=turn_taken)
        except SendFailed as failure:
            return failure.result
        return SendResult.sent(media_handle=file_id)


register_channel(TelegramChannel())
