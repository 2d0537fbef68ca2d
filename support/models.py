"""Support tickets: a user's request (or a blocked person's appeal), its conversation and its history."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bookings.models import Booking


class Ticket(models.Model):
    """A support request; its status moves along support.services.TICKET_TRANSITIONS.

    A ticket is a conversation: the user's first text, then ``messages`` from
    both sides. ``last_user_message_at``/``last_staff_message_at`` are kept by
    support.services so the back office can put unanswered tickets first.
    An appeal (``kind="appeal"``) comes from the no-login form for blocked
    people: ``user`` is the account of the address given, or empty when no
    account has it (staff then answer to ``contact_email``).
    """

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("ticket status", "open")
        IN_PROGRESS = "in_progress", pgettext_lazy("ticket status", "in progress")
        RESOLVED = "resolved", pgettext_lazy("ticket status", "resolved")
        REJECTED = "rejected", pgettext_lazy("ticket status", "rejected")
        CLOSED = "closed", pgettext_lazy("ticket status", "closed")

    class Kind(models.TextChoices):
        REQUEST = "request", pgettext_lazy("ticket kind", "request")
        APPEAL = "appeal", pgettext_lazy("ticket kind", "appeal against a block")

    #: Statuses in which the conversation goes on (a closed, resolved or rejected ticket takes no messages).
    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tickets",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.REQUEST)
    contact_email = models.EmailField(_("contact email"), blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    text = models.TextField(_("text"))
    booking = models.ForeignKey(
        Booking,
        verbose_name=_("booking"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    last_user_message_at = models.DateTimeField(_("last message from the user"), default=timezone.now)
    last_staff_message_at = models.DateTimeField(_("last answer of the support team"), null=True, blank=True)

    class Meta:
        verbose_name = _("support ticket")
        verbose_name_plural = _("support tickets")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="support_ticket_user_created"),
            models.Index(fields=["status", "-created_at"], name="support_ticket_status_created"),
            models.Index(fields=["status", "last_user_message_at"], name="support_ticket_waiting"),
        ]

    def __str__(self) -> str:
        return f"№{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        """Whether the conversation goes on (new messages are accepted)."""
        return self.status in self.OPEN_STATUSES

    @property
    def needs_answer(self) -> bool:
        """Open, and the user wrote last (or the support team never wrote)."""
        return self.is_open and (
            self.last_staff_message_at is None or self.last_user_message_at > self.last_staff_message_at
        )


class TicketStatusChange(models.Model):
    """One step of a ticket's history: who moved it from which status to which, and why."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="history")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_status = models.CharField(_("from status"), max_length=16, choices=Ticket.Status.choices)
    to_status = models.CharField(_("to status"), max_length=16, choices=Ticket.Status.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket status change")
        verbose_name_plural = _("ticket status changes")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"№{self.ticket_id}: {self.get_from_status_display()} → {self.get_to_status_display()}"


def attachment_path(instance, filename: str) -> str:
    """Attachments are re-encoded images with random names, kept apart from public uploads."""
    return f"tickets/{timezone.now():%Y/%m}/{filename}"


class TicketMessage(models.Model):
    """One message of a ticket's conversation, from the user or from the support team.

    ``by_staff`` says which side wrote it (an author who is staff and also the
    ticket's user writes as the user on the site and as staff in the admin).
    The attachment is an image validated and re-encoded like avatars
    (portal.images); it is served only to the ticket's user and to staff.
    """

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    by_staff = models.BooleanField(_("from the support team"), default=False)
    text = models.TextField(_("text"), blank=True)
    attachment = models.ImageField(_("image"), upload_to=attachment_path, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="support_message_ticket_created")]

    def __str__(self) -> str:
        return f"№{self.ticket_id}: {self.text[:50]}"
