"""The Telegram bot's handlers, shared by the webhook (via Celery) and ``manage.py runbot``.

A thin dispatcher over python-telegram-bot's ``Update`` objects: the webhook
view validates and enqueues ``process_telegram_update``; polling calls
``handle_update`` directly. Replies go through the Telegram channel (rate
limited, errors mapped).

mailings knows subscribing, account linking and help. Features of the apps
above it plug in through ``mailings.bot_registry`` at their ``AppConfig.ready()``:
a ``/start`` payload prefix (referrals: ``ref_<code>``) and a command for linked
chats (bookings: ``/bookings``).
"""

import logging

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, WebAppInfo

from mailings import telegram_staff
from mailings.bot_registry import BotCommand, BotReply, bot_command_get, bot_commands, start_payload_handler
from mailings.channels import SendStatus
from mailings.channels import telegram as tg
from mailings.channels.base import SendFailed
from mailings.models import BotSubscriber
from mailings.sending import outcome_record
from mailings.services import subscriber_deactivate, subscriber_link_user, subscriber_subscribe
from mailings.subscriber_identity import subscriber_link_platform_identity
from mailings.telegram_html import escape
from portal.errors import DomainError
from portal.models import User
from portal.services import TELEGRAM_LINK_PREFIX, telegram_link_consume

logger = logging.getLogger(__name__)


def parse_update(data) -> Update:
    """An Update from the JSON body; ValueError when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise ValueError("not a Telegram update")
    try:
        return Update.de_json(data, None)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"not a Telegram update: {exc}") from exc


def reply(chat_id, text: str, *, markup=None) -> None:
    result = tg.send_reply(chat_id=chat_id, html=text, reply_markup=markup)
    outcome_record(channel="telegram", address=str(chat_id), result=result)
    if result.status not in (SendStatus.SENT, SendStatus.BLOCKED):
        logger.warning("bot reply to %s failed: %s", chat_id, result.error)


def miniapp_markup() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(_("Open Citydesk"), web_app=WebAppInfo(url=settings.TELEGRAM_MINIAPP_URL))]]
    )


def _user_for_telegram_id(telegram_id) -> User | None:
    account = SocialAccount.objects.filter(provider="telegram", uid=str(telegram_id)).select_related("user").first()
    return account.user if account else None


def on_start(message, payload: str) -> None:
    from_user = message.from_user
    subscriber = subscriber_subscribe(
        channel="telegram",
        chat_id=message.chat.id,
        username=from_user.username or "",
        first_name=from_user.first_name or "",
        language_code=from_user.language_code or "",
    )
    # A Telegram user who signed in (Mini App, Telegram login) before /start: the chat is theirs.
    subscriber = subscriber_link_platform_identity(channel="telegram", chat_id=message.chat.id) or subscriber
    telegram_user = from_user.to_dict()
    if payload.startswith(TELEGRAM_LINK_PREFIX):
        try:
            user = telegram_link_consume(token=payload, telegram_user=telegram_user)
        except DomainError as exc:
            reply(message.chat.id, escape(exc.message))
        else:
            subscriber_link_user(subscriber=subscriber, user=user)
            reply(message.chat.id, escape(_("Your Telegram is now linked to your Citydesk account.")))
    elif (found := start_payload_handler(payload)) is not None:
        handler, argument = found
        try:
            answer = handler(subscriber=subscriber, telegram_user=telegram_user, argument=argument)
        except DomainError as exc:
            reply(message.chat.id, escape(exc.message))
        else:
            _reply_with(message.chat.id, answer)
    name = from_user.first_name or ""
    greeting = _(
        "Hello, %(name)s! You are subscribed to Citydesk news: bookings, reminders and offers of your city. "
        "Open the app with the button below. /help lists the commands."
    ) % {"name": name}
    reply(message.chat.id, escape(greeting), markup=miniapp_markup())


def on_stop(message, payload: str) -> None:
    subscriber_deactivate(channel="telegram", chat_id=message.chat.id)
    reply(message.chat.id, escape(_("You have unsubscribed. Send /start to subscribe again.")))


def on_help(message, payload: str) -> None:
    commands = [
        ("/start", _("subscribe and open the app")),
        *((command.name, command.description) for command in bot_commands()),
        ("/stop", _("unsubscribe from messages")),
        ("/help", _("this help")),
    ]
    if telegram_staff.staff_for_chat(chat_id=message.chat.id, telegram_id=message.from_user.id) is not None:
        commands += [
            ("/mailings", _("scheduled and sending mailings (staff, read-only)")),
            ("/stats", _("today's bookings, top-ups and revenue (staff)")),
        ]
    lines = [_("Commands:")]
    lines += [_("%(command)s: %(description)s") % {"command": name, "description": text} for name, text in commands]
    reply(message.chat.id, escape("\n".join(lines)), markup=miniapp_markup())


def _reply_with(chat_id, answer: BotReply) -> None:
    reply(chat_id, escape(answer.text), markup=miniapp_markup() if answer.app_button else None)


def on_registered_command(message, command: BotCommand) -> None:
    subscriber = BotSubscriber.objects.filter(channel="telegram", chat_id=str(message.chat.id)).first()
    user = subscriber.user if subscriber else None
    if user is None:
        user = _user_for_telegram_id(message.from_user.id)
    if user is None:
        reply(message.chat.id, escape(_("Link your Citydesk account first: open your profile on the site.")))
        return
    _reply_with(message.chat.id, command.handler(user=user))


COMMANDS = {"/start": on_start, "/stop": on_stop, "/help": on_help}

# Read-only commands for staff whose Telegram is linked (mailings.telegram_staff); others get /help.
STAFF_COMMANDS = {
    "/mailings": lambda chat_id, argument: telegram_staff.mailings_page(page=1),
    "/stats": lambda chat_id, argument: (telegram_staff.stats_text(), None),
}
# What the webhook (set_telegram_webhook) and polling (runbot) ask Telegram for.
ALLOWED_UPDATES = ["message", "my_chat_member", "callback_query"]


def on_staff_command(message, name: str, payload: str) -> None:
    if telegram_staff.staff_for_chat(chat_id=message.chat.id, telegram_id=message.from_user.id) is None:
        on_help(message, payload)
        return
    text, markup = STAFF_COMMANDS[name](message.chat.id, payload)
    reply(message.chat.id, text, markup=markup)


def on_callback_query(query) -> None:
    """The staff menu's inline buttons (the only callback buttons the bot sends)."""
    message = query.message
    data = query.data or ""
    telegram_staff.answer_callback(query.id)
    if message is None or message.chat.type != "private" or not data.startswith(telegram_staff.CALLBACK_PREFIX):
        return
    if telegram_staff.staff_for_chat(chat_id=message.chat.id, telegram_id=query.from_user.id) is None:
        return
    action, *arguments = data[len(telegram_staff.CALLBACK_PREFIX) :].split(":")
    numbers = [int(a) for a in arguments if a.isdigit() and len(a) < 10]
    if len(numbers) != len(arguments):
        return
    if action == "list" and len(numbers) == 1:
        text, markup = telegram_staff.mailings_page(page=numbers[0])
    elif action == "mailing" and len(numbers) == 2:
        text, markup = telegram_staff.mailing_card(mailing_id=numbers[0], page=numbers[1])
    else:
        return
    try:
        telegram_staff.edit_or_send(message.chat.id, message.message_id, text, markup)
    except SendFailed as exc:
        logger.warning("staff menu for %s failed: %s", message.chat.id, exc)


def on_my_chat_member(update) -> None:
    member = update.my_chat_member
    if member.chat.type != "private":
        return
    status = member.new_chat_member.status
    if status in ("kicked", "left"):
        subscriber_deactivate(channel="telegram", chat_id=member.chat.id)
    elif status == "member":
        subscriber_subscribe(
            channel="telegram",
            chat_id=member.chat.id,
            username=member.from_user.username or "",
            first_name=member.from_user.first_name or "",
        )
        subscriber_link_platform_identity(channel="telegram", chat_id=member.chat.id)


def handle_update(data: dict) -> None:
    """Run the matching handler for one update (a dict as Telegram sends it)."""
    update = parse_update(data)
    with translation.override(settings.LANGUAGE_CODE):
        if update.my_chat_member is not None:
            on_my_chat_member(update)
            return
        if update.callback_query is not None:
            on_callback_query(update.callback_query)
            return
        message = update.message
        if message is None or message.text is None or message.from_user is None:
            return
        if message.chat.type != "private":
            return
        command, _sep, payload = message.text.strip().partition(" ")
        name = command.split("@", 1)[0].lower()
        if name in STAFF_COMMANDS:
            on_staff_command(message, name, payload.strip())
            return
        registered = None if name in COMMANDS else bot_command_get(name)
        if registered is not None:
            on_registered_command(message, registered)
            return
        handler = COMMANDS.get(name, on_help)
        handler(message, payload.strip())
