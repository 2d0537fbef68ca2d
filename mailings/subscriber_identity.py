"""A bot chat and a Telegram or VK identity are one person, whichever came first.

In a private chat the chat id is the platform's user id: the Telegram bot's
chat with a person has that person's Telegram id, and a VK community
conversation with a person has their VK id (``from_id``/``user_id`` of the
Callback API events). So ``BotSubscriber(channel=c, chat_id=X)`` and the
allauth ``SocialAccount(provider=c, uid=X)`` belong to the same person.

Two entry points meet here, in either order:

- the chat writes first (``/start``, VK ``message_new``/``message_allow``) and
  the person signs in later (the Mini App, allauth's Telegram/VK login or
  account connection): ``portal.signals.platform_user_signed_in`` brings the
  user (mailings.signals);
- the person signed in first and the chat writes later: the bot handlers
  look the identity up.
"""

import logging

from allauth.socialaccount.models import SocialAccount
from django.db import transaction

from mailings.models import BotSubscriber
from portal.models import User

logger = logging.getLogger(__name__)

PLATFORM_CHANNELS = ("telegram", "vk")


@transaction.atomic
def subscriber_link_platform_identity(
    *, channel: str, chat_id: int | str, user: User | None = None
) -> BotSubscriber | None:
    """Link the bot chat ``chat_id`` of ``channel`` to the person with that Telegram/VK identity.

    ``user``: the user who has just signed in with the identity; None looks
    the identity up (a chat that has just written). Returns the linked
    subscriber, or None while one side is missing (the other entry point
    links later) or the chat is not a person's (a group, a community).
    The identity decides: a chat linked to someone else moves to the
    identity's owner. Linking never (re)activates a chat: subscribing stays
    the person's choice, made in the chat.
    """
    chat_id = str(chat_id)
    if channel not in PLATFORM_CHANNELS or not chat_id.isascii() or not chat_id.isdigit() or int(chat_id) <= 0:
        return None
    if user is None:
        account = SocialAccount.objects.filter(provider=channel, uid=chat_id).select_related("user").first()
        if account is None:
            return None
        user = account.user
    if not user.is_active:
        return None
    subscriber = BotSubscriber.objects.select_for_update().filter(channel=channel, chat_id=chat_id).first()
    if subscriber is None:
        return None
    if subscriber.user_id != user.pk:
        if subscriber.user_id is not None:
            logger.info("%s chat %s moves from user %s to user %s", channel, chat_id, subscriber.user_id, user.pk)
        subscriber.user = user
        subscriber.save(update_fields=["user"])
    return subscriber
