"""Reads for bookings: availability, free slots, lists for users and owners."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.postgres.fields import RangeBoundary
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from psycopg.types.range import Range

from bookings.constraints import TsTzRange
from bookings.hours import open_intervals
from bookings.models import Booking, BookingParticipant, Resource
from catalog.models import Organization

DEFAULT_DURATION_MINUTES = 60


def _overlapping_active(queryset: QuerySet, start: datetime, end: datetime) -> QuerySet:
    """Active bookings of ``queryset`` that intersect ``[start, end)``.

    On PostgreSQL the filter is written as the exclusion constraint's own
    expression (``tstzrange(starts_at, ends_at, '[)') && …`` on active statuses),
    so the planner answers it from the constraint's GiST index.
    """
    queryset = queryset.filter(status__in=Booking.ACTIVE_STATUSES)
    if connection.vendor == "postgresql":
        return queryset.annotate(span=TsTzRange("starts_at", "ends_at", RangeBoundary())).filter(
            span__overlap=Range(start, end, "[)")
        )
    return queryset.overlapping(start, end)


def resource_list_with_availability(
    *, organization: Organization | int, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[Resource]:
    """Active resources of an organization, each annotated with ``available`` for ``[start, end)``.

    Without a window ``available`` is None. A resource is available when no
    active booking overlaps the window; opening hours are reported separately
    (``window_open``), since they are the organization's, not the resource's.
    """
    queryset = Resource.objects.filter(organization=organization, is_active=True).order_by("name", "pk")
    if start is None or end is None:
        return queryset
    busy = _overlapping_active(Booking.objects.filter(resource=OuterRef("pk")), start, end)
    return queryset.annotate(available=~Exists(busy))


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


def default_step_minutes(duration_minutes: int) -> int:
    """30-minute steps for durations that are multiples of 30, 15-minute otherwise."""
    return 30 if duration_minutes % 30 == 0 else 15


def resource_free_slots(
    *,
    resource: Resource,
    day: date,
    duration_minutes: int = DEFAULT_DURATION_MINUTES,
    step_minutes: int | None = None,
    now: datetime | None = None,
    exclude_booking: Booking | None = None,
) -> list[Slot]:
    """Free start times on local date ``day`` for a booking of ``duration_minutes``.

    Starts step from the opening time every ``step_minutes`` (15 or 30) inside
    the open intervals; a slot may run past midnight when the organization is
    open then. Slots that overlap an active booking or start in the past are
    dropped. All arithmetic is in UTC.
    """
    now = now or timezone.now()
    step = timedelta(minutes=step_minutes or default_step_minutes(duration_minutes))
    duration = timedelta(minutes=duration_minutes)
    organization = resource.organization
    zone = organization.city.tzinfo
    intervals = open_intervals(
        organization=organization, first_day=day - timedelta(days=1), last_day=day + timedelta(days=1), zone=zone
    )
    day_start = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone).astimezone(UTC)
    window_end = day_end + duration
    bookings = Booking.objects.filter(resource=resource)
    if exclude_booking is not None:
        bookings = bookings.exclude(pk=exclude_booking.pk)
    busy = sorted(_overlapping_active(bookings, day_start, window_end).values_list("starts_at", "ends_at"))
    slots: list[Slot] = []
    for interval in intervals:
        if interval.end <= day_start or interval.start >= day_end:
            continue
        start = interval.start
        if start < day_start:
            # Keep the grid anchored to the opening time of an interval that began yesterday.
            start += ((day_start - start + step - timedelta(microseconds=1)) // step) * step
        while start < day_end and start + duration <= interval.end:
            end = start + duration
            if start >= now and not any(b_start < end and b_end > start for b_start, b_end in busy):
                slots.append(Slot(start, end))
            start += step
    return slots


def _participant_booking_ids(user, *statuses: str) -> QuerySet:
    statuses = statuses or (BookingParticipant.Status.ACCEPTED,)
    return BookingParticipant.objects.filter(user=user, status__in=statuses).values("booking_id")


def booking_list_for_user(*, user, when: str | None = None, now: datetime | None = None) -> QuerySet[Booking]:
    """The user's bookings plus those they take part in (invitations they accepted).

    ``when``: "upcoming" (not over yet, active), "past" (over or no longer active),
    or None for all. Upcoming ones come soonest first, the rest latest first.
    """
    now = now or timezone.now()
    queryset = Booking.objects.filter(Q(user=user) | Q(pk__in=_participant_booking_ids(user))).select_related(
        "resource__organization__city", "service", "user"
    )
    if when == "upcoming":
        return queryset.filter(ends_at__gt=now, status__in=Booking.ACTIVE_STATUSES).order_by("starts_at", "pk")
    if when == "past":
        return queryset.filter(Q(ends_at__lte=now) | ~Q(status__in=Booking.ACTIVE_STATUSES)).order_by(
            "-starts_at", "-pk"
        )
    return queryset.order_by("-starts_at", "-pk")


def booking_list_upcoming_for_user(*, user) -> QuerySet[Booking]:
    """Active bookings that have not ended where ``user`` books or takes part, soonest first."""
    return booking_list_for_user(user=user, when="upcoming")


def booking_get_for_user(*, user, pk: int) -> Booking | None:
    """A booking the user may see: theirs, one they take part in or are invited to, or one of their organizations'."""
    queryset = Booking.objects.select_related("resource__organization__city", "service", "user")
    if user.is_staff:
        return queryset.filter(pk=pk).first()
    invited_or_taking_part = _participant_booking_ids(
        user, BookingParticipant.Status.INVITED, BookingParticipant.Status.ACCEPTED
    )
    return queryset.filter(
        Q(user=user) | Q(pk__in=invited_or_taking_part) | Q(resource__organization__owner=user), pk=pk
    ).first()


def booking_invitations_for_user(*, user, now: datetime | None = None) -> QuerySet[Booking]:
    """Upcoming bookings the user is invited to and has not answered yet, soonest first."""
    now = now or timezone.now()
    return (
        Booking.objects.filter(
            pk__in=_participant_booking_ids(user, BookingParticipant.Status.INVITED),
            ends_at__gt=now,
            status__in=(Booking.Status.PENDING, Booking.Status.CONFIRMED),
        )
        .select_related("resource__organization__city", "service", "user")
        .order_by("starts_at", "pk")
    )


def booking_list_for_owner(
    *, user, organization: Organization | None = None, day: date | None = None, status: str | None = None
) -> QuerySet[Booking]:
    """Bookings of the resources of organizations ``user`` owns (all for staff)."""
    queryset = Booking.objects.select_related("resource__organization__city", "service", "user")
    if not user.is_staff:
        queryset = queryset.filter(resource__organization__owner=user)
    if organization is not None:
        queryset = queryset.filter(resource__organization=organization)
        if day is not None:
            zone = organization.city.tzinfo
            start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
            queryset = queryset.filter(starts_at__lt=start + timedelta(days=1), ends_at__gt=start)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("starts_at", "pk")


def organization_list_owned(*, user) -> QuerySet[Organization]:
    queryset = Organization.objects.select_related("city")
    if not user.is_staff:
        queryset = queryset.filter(owner=user)
    return queryset.order_by("name")


def booking_participants(*, booking: Booking) -> QuerySet[BookingParticipant]:
    """Who takes part: invitations show up only once accepted, so the booker learns
    nothing about an email they invited until its owner chooses to join."""
    return (
        booking.participant_links.filter(status=BookingParticipant.Status.ACCEPTED)
        .select_related("user")
        .order_by("responded_at", "pk")
    )


def booking_counts_for_day(*, day: date) -> dict[str, int]:
    """Figures of one Moscow day for the admin's start page: bookings starting that day (not cancelled)
    and bookings made that day."""
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = start + timedelta(days=1)
    starting = Booking.objects.filter(starts_at__gte=start, starts_at__lt=end).exclude(status=Booking.Status.CANCELLED)
    return {
        "starting": starting.count(),
        "created": Booking.objects.filter(created_at__gte=start, created_at__lt=end).count(),
    }
