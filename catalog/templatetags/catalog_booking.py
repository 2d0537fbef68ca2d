"""``{% organization_booking org as booking %}``: the organization's book buttons and set-up checklist."""

from django import template

from catalog.booking_links import BookingLinks, booking_links

register = template.Library()


@register.simple_tag
def organization_booking(organization) -> BookingLinks:
    """``booking.url`` (None: nothing to book), ``booking.service_ids``, ``booking.missing`` (the owner's to-do)."""
    return booking_links(organization=organization)
