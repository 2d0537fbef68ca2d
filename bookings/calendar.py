"""A booking as an iCalendar event (RFC 5545), built with the ``icalendar`` library."""

from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event

from bookings.models import Booking

PRODID = "-//Citydesk//Bookings//RU"


def booking_ics(booking: Booking, *, now=None) -> bytes:
    """One VEVENT in UTC: the title says what and where, the location is the address, the URL is the booking page.

    The UID is stable per booking, so importing the file again after a move
    updates the event; SEQUENCE follows the time the start was last set.
    A cancelled booking is exported as a cancelled event.
    """
    organization = booking.resource.organization
    what = booking.service.name if booking.service is not None else booking.resource.name
    url = settings.SITE_URL.rstrip("/") + reverse("bookings:detail", args=[booking.pk])
    host = urlparse(settings.SITE_URL).hostname or "citydesk"

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")

    event = Event()
    event.add("uid", f"booking-{booking.pk}@{host}")
    event.add("dtstamp", now or timezone.now())
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("sequence", int(booking.scheduled_at.timestamp()) % 2_000_000_000)
    event.add("summary", f"{what} — {organization.name}")
    location = ", ".join(part for part in (organization.city.name, organization.address) if part)
    event.add("location", location)
    lines = [organization.name, booking.resource.name]
    if booking.service is not None:
        lines.append(booking.service.name)
    lines.append(_("Booking and check-in QR code: %(url)s") % {"url": url})
    event.add("description", "\n".join(lines))
    event.add("url", url)
    event.add("status", "CANCELLED" if booking.status == Booking.Status.CANCELLED else "CONFIRMED")
    if booking.status != Booking.Status.CANCELLED:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event["summary"])
        alarm.add("trigger", timedelta(hours=-1))
        event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
