"""Receivers of other apps' signals."""

from mailings import subscribers
from mailings.subscriber_identity import subscriber_link_platform_identity


def on_user_erasing(sender, *, user, **kwargs) -> None:
    """portal.signals.user_erasing: bots and notifications stop reaching the deleted account."""
    subscribers.recipient_forget(user=user)


def on_platform_user_signed_in(sender, *, user, provider: str, uid: str, **kwargs) -> None:
    """portal.signals.platform_user_signed_in: the chat that identity opened with our bot is the user's."""
    subscriber_link_platform_identity(channel=provider, chat_id=uid, user=user)
