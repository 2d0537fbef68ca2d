"""Receivers of other apps' signals."""


def on_user_erasing(sender, *, user, now=None, **kwargs) -> None:
    """portal.signals.user_erasing: cancel the user's future bookings and drop their participations."""
    from bookings.services import bookings_release_user

    bookings_release_user(user=user, now=now)
