"""Bookings: bookable resources, opening hours, bookings, participants, reminders."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bookings.constraints import PostgresExclusionConstraint, TsTzRange
from catalog.models import Organization, Service
from portal.local_time import city_datetime

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ResourceQuerySet(models.QuerySet["Resource"]):
    def offering(self, service: Service) -> ResourceQuerySet:
        """Resources of ``service``'s organization that offer it: those listing it, and those listing no service."""
        listed = Resource.services.through.objects.filter(resource_id=OuterRef("pk"))
        return self.filter(organization_id=service.organization_id).filter(
            Exists(listed.filter(service_id=service.pk)) | ~Exists(listed)
        )


class Resource(models.Model):
    class Kind(models.TextChoices):
        SEAT = "seat", _("seat")
        ROOM = "room", _("room")
        SPECIALIST = "specialist", _("specialist")

    organization = models.ForeignKey(
        "catalog.Organization", verbose_name=_("organization"), on_delete=models.CASCADE, related_name="resources"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("How many people fit (seats and rooms).")
    )
    amenities = models.JSONField(
        _("amenities"), default=list, blank=True, help_text=_("A list such as projector, whiteboard, window.")
    )
    services = models.ManyToManyField(
        "catalog.Service",
        verbose_name=_("services"),
        blank=True,
        related_name="resources",
        help_text=_("The services this place or specialist offers. None ticked: every service of the organization."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        # organization_id, not organization: ordering by the relation would join the
        # organizations to sort by their name (their Meta.ordering) in every query.
        ordering = ["organization_id", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gt=0), name="resource_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def offers(self, service) -> bool:
        """Whether this resource offers ``service`` (no service listed means every service of its organization)."""
        if service.organization_id != self.organization_id:
            return False
        listed = {s.pk for s in self.services.all()}
        return not listed or service.pk in listed


class OpeningHours(models.Model):
    """One open interval of an organization on a weekday, in its city's local time.

    Several rows per weekday give a lunch break; a weekday without rows is a day
    off. ``closes_at`` 00:00 means "until midnight", so 20:00–00:00 on Monday plus
    00:00–02:00 on Tuesday is one evening open across midnight.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    organization = models.ForeignKey(
        "catalog.Organization",
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="opening_hours",
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"), help_text=_("00:00 means midnight (end of the day)."))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["organization_id", "weekday", "opens_at"]  # not "organization": see Resource
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="opening_hours_weekday_range"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")) | Q(closes_at="00:00:00"),
                name="opening_hours_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Closure(models.Model):
    """A date the organization is closed although its weekday has opening hours."""

    organization = models.ForeignKey(
        "catalog.Organization", verbose_name=_("organization"), on_delete=models.CASCADE, related_name="closures"
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        ordering = ["organization_id", "date"]  # not "organization": see Resource
        constraints = [
            models.UniqueConstraint(fields=["organization", "date"], name="closure_unique_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}"


def new_checkin_code() -> str:
    return secrets.token_urlsafe(12)


class BookingQuerySet(models.QuerySet["Booking"]):
    def active(self) -> BookingQuerySet:
        """Bookings that hold their time: pending, confirmed or checked in."""
        return self.filter(status__in=Booking.ACTIVE_STATUSES)

    def overlapping(self, start: datetime, end: datetime) -> BookingQuerySet:
        """Bookings whose ``[starts_at, ends_at)`` intersects ``[start, end)`` (back-to-back does not)."""
        return self.filter(starts_at__lt=end, ends_at__gt=start)


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        CONFIRMED = "confirmed", _("confirmed")
        CANCELLED = "cancelled", _("cancelled")
        CHECKED_IN = "checked_in", _("checked in")
        COMPLETED = "completed", _("completed")
        NO_SHOW = "no_show", _("no-show")

    # Bookings that hold their slot (the exclusion constraint below lists the same values).
    ACTIVE_STATUSES = (Status.PENDING, Status.CONFIRMED, Status.CHECKED_IN)
    # Bookings that have not started for the client: they can be moved, cancelled, checked in and
    # reminded of, and become no-shows once over.
    UPCOMING_STATUSES = (Status.PENDING, Status.CONFIRMED)

    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.PROTECT, related_name="bookings"
    )
    service = models.ForeignKey(
        "catalog.Service", verbose_name=_("service"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="bookings"
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("participants"),
        through="BookingParticipant",
        related_name="participated_bookings",
        blank=True,
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    scheduled_at = models.DateTimeField(
        _("time set at"), default=timezone.now, help_text=_("When the current start time was chosen.")
    )
    comment = models.TextField(_("comment"), max_length=500, blank=True, help_text=_("The client's note to the owner."))
    phone = models.CharField(_("contact phone"), max_length=20, blank=True, help_text=_("E.164, given when booking."))
    checkin_code = models.CharField(_("check-in code"), max_length=32, default=new_checkin_code, editable=False)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked in by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    review_reminded_at = models.DateTimeField(
        _("review reminder sent at"), null=True, blank=True, editable=False, help_text=_("Claimed once per booking.")
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["resource", "starts_at"], name="booking_resource_start_idx"),
            models.Index(fields=["status", "starts_at"], name="booking_status_start_idx"),
            models.Index(fields=["user", "starts_at"], name="booking_user_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="booking_ends_after_start"),
            # No double booking, ever (PostgreSQL; a no-op elsewhere).
            PostgresExclusionConstraint(
                name="booking_no_overlap",
                # The time span leads: the same GiST index then also answers
                # "which resources are busy in this window?" without a resource.
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("resource", RangeOperators.EQUAL),
                ],
                # Booking.ACTIVE_STATUSES (Meta cannot name it); a test keeps the two equal.
                condition=Q(status__in=["pending", "confirmed", "checked_in"]),
            ),
        ]

    def __str__(self) -> str:
        # In the organization's city zone, the place named: "Переговорная · 12 марта 2026, 08:00 (Москва)".
        return f"{self.resource} · {city_datetime(self.starts_at, self.resource.organization.city)}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    def client_status_label(self) -> str:
        """The status as the client (booker or participant) reads it: "you came", not "the client came"."""
        return str(CLIENT_STATUS_LABELS.get(self.status, self.get_status_display()))

    def owner_status_label(self) -> str:
        """The status as the organization's owner reads it: "the client came"."""
        return str(OWNER_STATUS_LABELS.get(self.status, self.get_status_display()))


CLIENT_STATUS_LABELS: dict[str, StrOrPromise] = {
    Booking.Status.PENDING: pgettext_lazy("booking status for the client", "waiting for confirmation"),
    Booking.Status.CONFIRMED: pgettext_lazy("booking status for the client", "confirmed"),
    Booking.Status.CANCELLED: pgettext_lazy("booking status for the client", "cancelled"),
    Booking.Status.CHECKED_IN: pgettext_lazy("booking status for the client", "you are here"),
    Booking.Status.COMPLETED: pgettext_lazy("booking status for the client", "attended"),
    Booking.Status.NO_SHOW: pgettext_lazy("booking status for the client", "you did not come"),
}
OWNER_STATUS_LABELS: dict[str, StrOrPromise] = {
    Booking.Status.PENDING: pgettext_lazy("booking status for the owner", "waiting for confirmation"),
    Booking.Status.CONFIRMED: pgettext_lazy("booking status for the owner", "confirmed"),
    Booking.Status.CANCELLED: pgettext_lazy("booking status for the owner", "cancelled"),
    Booking.Status.CHECKED_IN: pgettext_lazy("booking status for the owner", "the client came"),
    Booking.Status.COMPLETED: pgettext_lazy("booking status for the owner", "visit took place"),
    Booking.Status.NO_SHOW: pgettext_lazy("booking status for the owner", "the client did not come"),
}


class BookingParticipant(models.Model):
    """A registered user invited to a booking.

    An invitation is private to the invitee until they accept it: the booker
    sees only accepted participants, so inviting an email tells the booker
    nothing about whether it belongs to a Citydesk user.
    """

    class Status(models.TextChoices):
        INVITED = "invited", _("invited, no answer yet")
        ACCEPTED = "accepted", _("taking part")
        DECLINED = "declined", _("declined")

    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="participant_links"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.INVITED)
    invited_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["booking_id", "invited_at"]  # not "booking": that would join and sort by its start
        constraints = [
            models.UniqueConstraint(fields=["booking", "user"], name="booking_participant_unique"),
        ]

    def __str__(self) -> str:
        return str(self.user)


class BookingReminder(models.Model):
    """A reminder claimed for one person, one offset and one start time.

    The unique key makes a reminder go out once however many beat processes run;
    ``starts_at`` in the key gives a moved booking fresh reminders.
    """

    booking = models.ForeignKey(Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    offset_minutes = models.PositiveIntegerField(_("minutes before start"))
    starts_at = models.DateTimeField(_("booking start"))
    sent = models.BooleanField(_("sent"), default=True, help_text=_("False when skipped for a later, closer one."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("booking reminder")
        verbose_name_plural = _("booking reminders")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "user", "offset_minutes", "starts_at"], name="booking_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.booking_id}:{self.user_id}:{self.offset_minutes}"


class Review(models.Model):
    """A client's review of a visit: one per attended booking (checked in or completed).

    Reviews belong to bookings because the rule that guards them ("this client
    came") is a booking's; the organization's average and count are handed to
    catalog (``catalog.services.organization_rating_set``) after every change.
    """

    ATTENDED_STATUSES = ("checked_in", "completed")

    booking = models.OneToOneField(Booking, verbose_name=_("booking"), on_delete=models.PROTECT, related_name="review")
    organization = models.ForeignKey(
        "catalog.Organization", verbose_name=_("organization"), on_delete=models.CASCADE, related_name="reviews"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="reviews"
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    text = models.TextField(_("text"), blank=True, max_length=2000)
    reply = models.TextField(_("owner's reply"), blank=True, max_length=2000)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("replied by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_hidden = models.BooleanField(_("hidden"), default=False)
    hidden_reason = models.TextField(_("reason for hiding"), blank=True)
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("hidden by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "is_hidden", "-created_at"], name="review_org_latest_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"),
            models.CheckConstraint(
                condition=Q(is_hidden=False) | ~Q(hidden_reason=""), name="review_hidden_with_reason"
            ),
            models.CheckConstraint(
                condition=Q(reply="", replied_at__isnull=True) | (~Q(reply="") & Q(replied_at__isnull=False)),
                name="review_reply_dated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.rating}★ #{self.pk}"

    @property
    def author_name(self) -> str:
        """How the author is shown: first name and the initial of the last name."""
        first = (self.author.first_name or "").strip()
        last = (self.author.last_name or "").strip()
        if first:
            return f"{first} {last[0]}." if last else first
        return str(_("Client"))


class OrganizationSchedule(Organization):
    """The admin's view of an organization's schedule (opening hours and closed days inline)."""

    class Meta:
        proxy = True
        verbose_name = _("organization schedule")
        verbose_name_plural = _("organization schedules")
