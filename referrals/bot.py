"""The Telegram bot's ``/start ref_<code>``, registered with mailings in ReferralsConfig.ready()."""

from django.utils.translation import gettext as _

from mailings.bot_registry import BotReply
from mailings.models import BotSubscriber
from mailings.services import subscriber_link_user
from portal.services import telegram_user_get_or_create
from referrals.services import referral_apply


def bot_start_with_code(*, subscriber: BotSubscriber, telegram_user: dict, argument: str) -> BotReply:
    """Sign the Telegram user up (or find them), link the chat, and apply the referral code ``argument``.

    A refused code raises its DomainError: the bot replies with the reason.
    """
    user, _created = telegram_user_get_or_create(telegram_user=telegram_user)
    if subscriber.user_id is None:
        subscriber_link_user(subscriber=subscriber, user=user)
    referral_apply(user=user, code=argument, source="bot")
    return BotReply(_("The invitation code is accepted. Welcome!"))
