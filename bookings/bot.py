"""The bots' ``/bookings`` command, registered with mailings in BookingsConfig.ready()."""

from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.selectors import booking_list_upcoming_for_user
from mailings.bot_registry import BotReply

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
        zone = getattr(getattr(organization, "city", None), "tzinfo", None) or timezone.get_default_timezone()
        starts = timezone.localtime(booking.starts_at, zone)
        lines.append(f"• {starts:%d.%m.%Y %H:%M} — {organization.name}, {resource.name}")
    return BotReply("\n".join(lines), app_button=True)
