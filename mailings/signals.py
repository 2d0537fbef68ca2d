"""Receivers of other apps' signals."""


def on_user_erasing(sender, *, user, **kwargs) -> None:
    """portal.signals.user_erasing: bots and notifications stop reaching the deleted account."""
    from mailings.services import recipient_forget

    recipient_forget(user=user)
