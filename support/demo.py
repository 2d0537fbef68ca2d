"""Demo data for support: a couple of tickets of the demo users."""

from portal.demo import first_or_create
from support.models import Ticket
from support.services import ticket_change_status

DEMO_TICKETS = [
    (0, "Как перенести бронирование?", "Хочу перенести запись на другой день. Где это сделать?", "in_progress"),
    (1, "Не пришло письмо с подтверждением", "Зарегистрировался час назад, письма всё нет.", "open"),
]


def seed(stdout, context) -> dict:
    """The status change goes through the service (once, when the ticket is new)."""
    users, staff = context.get("users") or [], context.get("staff")
    if len(users) < len(DEMO_TICKETS) or staff is None:
        return {}
    for index, subject, text, status in DEMO_TICKETS:
        ticket, created = first_or_create(Ticket, user=users[index], subject=subject, defaults={"text": text})
        if created and status != ticket.status:
            ticket_change_status(ticket=ticket, status=status, by=staff, comment="Разбираемся, ответим сегодня.")
    stdout.write(f"  tickets: {len(DEMO_TICKETS)}")
    return {}
