"""Receivers of other apps' signals."""

from mailings import subscribers


def on_user_erasing(sender, *, user, **kwargs) -> None:
    """portal.signals.user_erasing: bots and notifications stop reaching the deleted account."""
    subscribers.recipient_forget(user=user)
