"""The Mini App start parameter ``booking_<id>`` (registered in BookingsConfig.ready())."""

from django.urls import reverse

from bookings.selectors import booking_get_for_user


def booking_start_url(*, user, argument: str) -> str | None:
    """The booking's page when ``user`` may see it; an anonymous visitor is asked to log in there first."""
    if not argument.isascii() or not argument.isdigit() or len(argument) > 18:
        return None
    pk = int(argument)
    url = reverse("bookings:detail", args=[pk])
    if not user.is_authenticated:
        return url  # the page sends them to the login form and back; it tells nothing about the booking
    return url if booking_get_for_user(user=user, pk=pk) is not None else None
