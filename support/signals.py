"""Receivers: account deletion closes and erases the person's tickets."""

from support import services


def on_user_erasing(sender, *, user, by=None, now, **kwargs) -> None:
    """portal.signals.user_erasing: keep the tickets for the support history, closed and erased."""
    services.tickets_erase_for_user(user=user, by=by or user, now=now)
