"""The bots' ``/bookings`` command, registered with mailings in BookingsConfig.ready()."""

from django.utils.translation import gettext as _

from bookings.selectors import booking_list_upcoming_for_user
from mailings.bot_registry import BotReply
from portal.formatting import datetime_format

BOT_BOOKINGS_LIMIT = 10


def bot_bookings_command(*, user) -> BotReply:
    """The user's next bookings, one line each, in the organization's city time zone."""
    bookings = list(booking_list_upcoming_for_user(user=user)[:BOT_BOOKINGS_LIMIT])
    if not bookings:
        return BotReply(_("You have no upcoming bookings."))
    lines = [_("Your upcoming bookings:")]
    for booking in bookings:
        resource = booking.resource
        organization = resource.organization
        starts = datetime_format(booking.starts_at, zone=organization.city.tzinfo)
        lines.append(f"• {starts} — {organization.name}, {resource.name}")
    return BotReply("\n".join(lines), app_button=True)
