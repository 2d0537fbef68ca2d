"""The bots' ``/bookings`` command and the bookings part of the staff ``/stats``, registered with
mailings in BookingsConfig.ready()."""

from django.utils.translation import gettext as _

from bookings.models import Booking
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


def bot_stats_bookings(*, start, end) -> list[str]:
    """Staff ``/stats`` lines (registered with mailings): bookings made in [start, end) and the
    visits (not cancelled) that fall in it."""
    made = Booking.objects.filter(created_at__gte=start, created_at__lt=end).count()
    visits = (
        Booking.objects.filter(starts_at__gte=start, starts_at__lt=end).exclude(status=Booking.Status.CANCELLED).count()
    )
    return [
        _("Bookings made: %(count)s") % {"count": made},
        _("Visits today: %(count)s") % {"count": visits},
    ]
