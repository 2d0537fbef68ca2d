"""Support tickets: open, move along the allowed transitions, notify the author."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from bookings.models import Booking
from mailings.services import notify
from portal.errors import Conflict, NotFound, ValidationError
from portal.models import User
from portal.services import actor_ensure_active
from support.models import Ticket, TicketStatusChange

# Who may move a ticket where (documented in docs/api.md):
#
#   from \ to     open   in_progress  resolved  rejected  closed
#   open           -      staff        staff     staff     owner, staff
#   in_progress   staff    -           staff     staff     owner, staff
#   resolved       -      staff         -         -        owner, staff
#   rejected       -      staff         -         -        owner, staff
#   closed         -       -            -         -         -
#
# Staff work a ticket; its author may only close it. Closed is final.

_S = Ticket.Status
TICKET_TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "staff": {
        _S.OPEN: frozenset({_S.IN_PROGRESS, _S.RESOLVED, _S.REJECTED, _S.CLOSED}),
        _S.IN_PROGRESS: frozenset({_S.OPEN, _S.RESOLVED, _S.REJECTED, _S.CLOSED}),
        _S.RESOLVED: frozenset({_S.IN_PROGRESS, _S.CLOSED}),
        _S.REJECTED: frozenset({_S.IN_PROGRESS, _S.CLOSED}),
        _S.CLOSED: frozenset(),
    },
    "owner": {
        _S.OPEN: frozenset({_S.CLOSED}),
        _S.IN_PROGRESS: frozenset({_S.CLOSED}),
        _S.RESOLVED: frozenset({_S.CLOSED}),
        _S.REJECTED: frozenset({_S.CLOSED}),
        _S.CLOSED: frozenset(),
    },
}


def ticket_allowed_statuses(*, ticket: Ticket, actor: User) -> list[str]:
    """The statuses ``actor`` may move ``ticket`` to now, in the order of Ticket.Status."""
    allowed: set[str] = set()
    if actor.is_staff:
        allowed |= TICKET_TRANSITIONS["staff"][ticket.status]
    if actor.pk == ticket.user_id:
        allowed |= TICKET_TRANSITIONS["owner"][ticket.status]
    return [value for value in Ticket.Status.values if value in allowed]


@transaction.atomic
def ticket_create(*, user: User, subject: str, text: str, booking: Booking | None = None) -> Ticket:
    """Open a support ticket; ``booking`` (optional) must be the user's own."""
    actor_ensure_active(user)
    subject = (subject or "").strip()
    text = (text or "").strip()
    if not subject:
        raise ValidationError(_("Enter a subject."), code="subject_required")
    if len(subject) > 200:
        raise ValidationError(_("The subject is too long (200 characters at most)."), code="subject_too_long")
    if not text:
        raise ValidationError(_("Describe the problem."), code="text_required")
    if booking is not None and booking.user_id != user.pk:
        raise ValidationError(_("Choose one of your own bookings."), code="booking_not_yours")
    return Ticket.objects.create(user=user, subject=subject, text=text, booking=booking)


@transaction.atomic
def ticket_change_status(*, ticket: Ticket, status: str, by: User, comment: str = "") -> TicketStatusChange:
    """Move ``ticket`` to ``status`` as ``by``, record the change and notify the ticket's author.

    Staff follow TICKET_TRANSITIONS["staff"]; the author may only close their own
    ticket. Raises ValidationError (unknown status), NotFound (someone else's
    ticket for a non-staff user), Conflict ``ticket_transition_not_allowed``.
    The notification's dedupe key is ``ticket:<id>:change:<change id>``.
    """
    if status not in Ticket.Status.values:
        raise ValidationError(_("Unknown ticket status."), code="ticket_status_invalid")
    ticket = Ticket.objects.select_for_update().select_related("user").get(pk=ticket.pk)
    if not by.is_staff and by.pk != ticket.user_id:
        raise NotFound(_("No such ticket."))
    if status not in ticket_allowed_statuses(ticket=ticket, actor=by):
        raise Conflict(
            _("A ticket cannot go from “%(from)s” to “%(to)s”.")
            % {"from": Ticket.Status(ticket.status).label, "to": Ticket.Status(status).label},
            code="ticket_transition_not_allowed",
        )
    change = TicketStatusChange.objects.create(
        ticket=ticket, changed_by=by, from_status=ticket.status, to_status=status, comment=(comment or "").strip()
    )
    ticket.status = status
    ticket.save(update_fields=["status", "updated_at"])
    notify(
        user=ticket.user,
        kind="ticket_status",
        context={
            "ticket_id": ticket.pk,
            "subject": ticket.subject,
            "from_status": change.from_status,
            "to_status": change.to_status,
            "comment": change.comment,
            "url": settings.SITE_URL + reverse("support:ticket_detail", args=[ticket.pk]),
        },
        dedupe_key=f"ticket:{ticket.pk}:change:{change.pk}",
    )
    return change


def tickets_erase_for_user(*, user: User, by: User, now) -> int:
    """Account deletion: close the user's tickets (recorded in their history, nobody notified) and erase
    what the user wrote. Idempotent: tickets erased before are left alone. Returns how many were erased."""
    placeholder = _("[deleted with the account]")
    tickets = Ticket.objects.select_for_update().filter(user=user)
    tickets = tickets.exclude(status=Ticket.Status.CLOSED, subject=placeholder, text=placeholder)
    erased = 0
    for ticket in tickets.order_by("pk"):
        if ticket.status != Ticket.Status.CLOSED:
            TicketStatusChange.objects.create(
                ticket=ticket,
                changed_by=by,
                from_status=ticket.status,
                to_status=Ticket.Status.CLOSED,
                comment=_("The account was deleted."),
                created_at=now,
            )
            ticket.status = Ticket.Status.CLOSED
        ticket.subject = placeholder
        ticket.text = placeholder
        ticket.save(update_fields=["status", "subject", "text", "updated_at"])
        erased += 1
    return erased
