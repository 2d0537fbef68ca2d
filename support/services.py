"""Support tickets: open, talk both ways, move along the allowed transitions, notify the other side.

Also the appeal of a blocked person (no login): it opens a ticket for staff
whatever the address given, so the answer never tells whether it is registered.
"""

from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from bookings.models import Booking
from mailings.services import notify, notify_staff
from portal.errors import Conflict, NotFound, PermissionDenied, UserBlocked, ValidationError
from portal.images import image_validate_and_normalize
from portal.models import User
from portal.services import actor_ensure_active
from support import tasks
from support.models import Ticket, TicketMessage, TicketStatusChange

MESSAGE_MAX_LENGTH = 4000
APPEAL_MAX_LENGTH = 4000
ATTACHMENT_MAX_SIDE = 2048

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
    ticket = Ticket.objects.create(user=user, subject=subject, text=text, booking=booking)
    notify_staff(kind="ticket_new", context=_staff_context(ticket, text=text), dedupe_key=f"ticket:{ticket.pk}:new")
    return ticket


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
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("user").get(pk=ticket.pk)
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
    fields = ["status", "updated_at"]
    if by.is_staff and by.pk != ticket.user_id and change.comment:
        # A comment to the user is an answer: the ticket stops waiting for one.
        ticket.last_staff_message_at = change.created_at
        fields.append("last_staff_message_at")
    ticket.save(update_fields=fields)
    _notify_user(
        ticket=ticket,
        kind="ticket_status",
        context={"from_status": change.from_status, "to_status": change.to_status, "comment": change.comment},
        dedupe_key=f"ticket:{ticket.pk}:change:{change.pk}",
        email_text=change.comment or None,  # an appeal is emailed a comment only
    )
    return change


def _ticket_url(ticket: Ticket) -> str:
    return f"{settings.SITE_URL}{reverse('support:ticket_detail', args=[ticket.pk])}"


def _admin_url(ticket: Ticket) -> str:
    return f"{settings.SITE_URL}{reverse('admin:support_ticket_change', args=[ticket.pk])}"


def _staff_context(ticket: Ticket, *, text: str, attachment: bool = False) -> dict[str, Any]:
    """What a notification to staff says about a ticket (JSON-serialisable)."""
    return {
        "ticket_id": ticket.pk,
        "subject": ticket.subject,
        "author": (ticket.user.email if ticket.user else "") or ticket.contact_email,
        "text": text,
        "attachment": attachment,
        "is_appeal": ticket.kind == Ticket.Kind.APPEAL,
        "url": _admin_url(ticket),
    }


def _staff_of_ticket(ticket: Ticket) -> list[User]:
    """The active staff who already answered or moved the ticket: they are the ones to tell first."""
    answered = TicketMessage.objects.filter(ticket=ticket, by_staff=True).values("author_id")
    moved = TicketStatusChange.objects.filter(ticket=ticket).values("changed_by_id")
    return list(
        User.objects.active()
        .filter(is_staff=True)
        .filter(Q(pk__in=answered) | Q(pk__in=moved))
        .exclude(pk=ticket.user_id or 0)
        .order_by("pk")
    )


def ticket_message_list(*, ticket: Ticket) -> QuerySet[TicketMessage]:
    """The conversation of a ticket, oldest first (authors loaded)."""
    return ticket.messages.select_related("author").order_by("created_at", "pk")


@transaction.atomic
def ticket_message_add(
    *, ticket: Ticket, author: User, text: str, attachment: IO[bytes] | None = None, as_staff: bool = False
) -> TicketMessage:
    """Add a message to ``ticket``'s conversation and notify the other side.

    ``as_staff`` is the back office (the author must be staff); otherwise the
    author must be the ticket's user, not blocked. The text (at most
    MESSAGE_MAX_LENGTH characters) may be empty only with an attachment; the
    attachment is an image checked and re-encoded by portal.images (codes
    ``image_*``). A closed, resolved or rejected ticket refuses with Conflict
    ``ticket_closed``. A user's message goes to the staff who already worked
    on the ticket (everyone on staff when nobody did yet); a staff message goes
    to the user (``notify``, dedupe key ``ticket:<id>:message:<message id>``),
    or by email to the contact address of an appeal with no account.
    """
    text = (text or "").strip()
    if as_staff:
        if not author.is_staff:
            raise PermissionDenied(_("Only the support team answers in the back office."))
    elif author.is_blocked:
        raise UserBlocked(_("Your account has been blocked."))
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("user").get(pk=ticket.pk)
    if not as_staff and author.pk != ticket.user_id:
        raise NotFound(_("No such ticket."))
    if not ticket.is_open:
        raise Conflict(
            _("The ticket is %(status)s: it takes no new messages. Open a new ticket if you need help.")
            % {"status": Ticket.Status(ticket.status).label},
            code="ticket_closed",
        )
    if not text and not attachment:
        raise ValidationError(_("Write a message or attach an image."), code="text_required")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationError(
            _("The message is too long (%(max)d characters at most).") % {"max": MESSAGE_MAX_LENGTH},
            code="text_too_long",
        )
    normalized = image_validate_and_normalize(attachment, max_side=ATTACHMENT_MAX_SIDE) if attachment else None
    message = TicketMessage(ticket=ticket, author=author, by_staff=as_staff, text=text)
    if normalized is not None:
        message.attachment.save(normalized.image.name, normalized.image, save=False)
    message.save()
    if as_staff:
        ticket.last_staff_message_at = message.created_at
        ticket.save(update_fields=["last_staff_message_at", "updated_at"])
        _notify_user(
            ticket=ticket,
            kind="ticket_message",
            context={"text": message.text, "attachment": bool(message.attachment)},
            dedupe_key=f"ticket:{ticket.pk}:message:{message.pk}",
            email_text=message.text,
        )
    else:
        ticket.last_user_message_at = message.created_at
        ticket.save(update_fields=["last_user_message_at", "updated_at"])
        context = _staff_context(ticket, text=text, attachment=bool(normalized))
        key = f"ticket:{ticket.pk}:message:{message.pk}"
        staff = _staff_of_ticket(ticket)
        if not staff:
            notify_staff(kind="ticket_message_staff", context=context, dedupe_key=key)
        for member in staff:
            notify(user=member, kind="ticket_message_staff", context=context, dedupe_key=f"{key}:staff:{member.pk}")
    return message


def _notify_user(
    *, ticket: Ticket, kind: str, context: dict[str, Any], dedupe_key: str, email_text: str | None
) -> None:
    """Tell the ticket's user about an answer or a status change: a notification of ``kind`` whose
    context is ``context`` plus the ticket's id, subject and page. An appeal from an address with no
    account gets ``email_text`` by email instead (after commit), and nothing when it is None."""
    if ticket.user is None:
        if email_text is not None:
            transaction.on_commit(lambda: tasks.deliver_appeal_answer.delay(ticket.pk, email_text))
        return
    notify(
        user=ticket.user,
        kind=kind,
        context={"ticket_id": ticket.pk, "subject": ticket.subject, **context, "url": _ticket_url(ticket)},
        dedupe_key=dedupe_key,
    )


@transaction.atomic
def appeal_create(*, email: str, text: str) -> Ticket:
    """A blocked person's appeal, sent without signing in: always opens a ticket for staff.

    The ticket belongs to the account with that email (blocked or not) when
    there is one, else to nobody with ``contact_email`` set; either way the
    caller answers the same, so the form tells no stranger whether an address
    is registered. Staff are notified (``ticket:<id>:new``).
    """
    email = (email or "").strip()
    text = (text or "").strip()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError(_("Enter a valid email address."), code="email_invalid") from None
    if not text:
        raise ValidationError(_("Describe the problem."), code="text_required")
    if len(text) > APPEAL_MAX_LENGTH:
        raise ValidationError(
            _("The message is too long (%(max)d characters at most).") % {"max": APPEAL_MAX_LENGTH},
            code="text_too_long",
        )
    user = User.objects.filter(email__iexact=email, is_active=True).order_by("pk").first()
    ticket = Ticket.objects.create(
        user=user,
        kind=Ticket.Kind.APPEAL,
        contact_email=email,
        subject=_("Appeal against a block"),
        text=text,
    )
    notify_staff(kind="ticket_new", context=_staff_context(ticket, text=text), dedupe_key=f"ticket:{ticket.pk}:new")
    return ticket


def appeal_answer_deliver(*, ticket_id: int, text: str) -> bool:
    """Email an answer to the contact address of an appeal with no account (the worker's side)."""
    ticket = Ticket.objects.filter(pk=ticket_id, user__isnull=True).exclude(contact_email="").first()
    if ticket is None:
        return False
    context = {"ticket_id": ticket.pk, "subject": ticket.subject, "text": text}
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("notifications/ticket_message/subject.txt", context).split())
        body = render_to_string("support/appeal_answer.txt", context).strip()
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [ticket.contact_email])
    return True


def tickets_erase_for_user(*, user: User, by: User, now: datetime) -> int:
    """Account deletion: close the user's tickets (recorded in their history, nobody notified) and erase
    what the user wrote, their messages and attachments included. Idempotent: tickets erased before are
    left alone. Returns how many were erased."""
    placeholder = _("[deleted with the account]")
    _messages_erase(user=user, placeholder=placeholder)
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
        ticket.contact_email = ""
        ticket.save(update_fields=["status", "subject", "text", "contact_email", "updated_at"])
        erased += 1
    return erased


def _messages_erase(*, user: User, placeholder: str) -> int:
    """Erase the text and the attachments of what ``user`` wrote in tickets (files deleted after commit)."""
    messages = TicketMessage.objects.filter(Q(author=user) | Q(ticket__user=user, by_staff=False))
    messages = messages.filter(by_staff=False).exclude(text=placeholder, attachment="")
    files = [name for name in messages.exclude(attachment="").values_list("attachment", flat=True) if name]
    erased = messages.update(text=placeholder, attachment="")
    if files:
        transaction.on_commit(lambda: _storage_delete(files))
    return erased


def _storage_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
