"""Template helpers for support tickets."""

from django import template

from support.models import Ticket

register = template.Library()


@register.filter
def ticket_status_label(value: str) -> str:
    """The translated label of a ticket status value (``"in_progress"`` → «в работе»)."""
    try:
        return str(Ticket.Status(value).label)
    except ValueError:
        return value
