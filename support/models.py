"""Support tickets: a user's request, optionally about one of their bookings, and its history."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bookings.models import Booking


class Ticket(models.Model):
    """A support request; its status moves along support.services.TICKET_TRANSITIONS."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("ticket status", "open")
        IN_PROGRESS = "in_progress", pgettext_lazy("ticket status", "in progress")
        RESOLVED = "resolved", pgettext_lazy("ticket status", "resolved")
        REJECTED = "rejected", pgettext_lazy("ticket status", "rejected")
        CLOSED = "closed", pgettext_lazy("ticket status", "closed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="tickets"
    )
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

    class Meta:
        verbose_name = _("support ticket")
        verbose_name_plural = _("support tickets")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="support_ticket_user_created"),
            models.Index(fields=["status", "-created_at"], name="support_ticket_status_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


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
        return f"#{self.ticket_id}: {self.from_status} → {self.to_status}"
