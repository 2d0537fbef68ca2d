"""Reads for bookings: availability, free slots, lists for users and owners."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import RangeBoundary
from django.db import connection
from django.db.models import Exists, Min, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from psycopg.types.range import Range

from bookings.constraints import TsTzRange
from bookings.hours import open_intervals
from bookings.models import Booking, BookingParticipant, BookingQuerySet, Closure, OpeningHours, Resource, Review
from catalog.booking_links import BookingLinks, SetupStep
from catalog.models import City, Organization, Service
from catalog.selectors import organizations_managed_by
from portal import errors
from portal.models import User

DEFAULT_DURATION_MINUTES = 60


def _overlapping_active(queryset: BookingQuerySet, start: datetime, end: datetime) -> QuerySet[Booking]:
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


def resources_public() -> QuerySet[Resource]:
    """Active resources of visible organizations: those anyone may open, see the free times of and book."""
    return Resource.objects.filter(is_active=True, organization__in=Organization.objects.visible())


def resource_list_with_availability(
    *, organization: Organization | int, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[Resource]:
    """Active resources of an organization, each annotated with ``available`` for ``[start, end)``.

    Without a window ``available`` is None. A resource is available when no
    active booking overlaps the window; opening hours are reported separately
    (``window_open``), since they are the organization's, not the resource's.
    """
    queryset = (
        Resource.objects.filter(organization=organization, is_active=True)
        .annotate(service_ids=resource_service_ids())
        .order_by("name", "pk")
    )
    if start is None or end is None:
        return queryset
    busy = _overlapping_active(Booking.objects.filter(resource=OuterRef("pk")), start, end)
    return queryset.annotate(available=~Exists(busy))


def resource_service_ids() -> ArraySubquery:
    """The ids of the services a resource lists, as an array column (``service_ids``; what the API's
    ``services`` shows), in the order of ``resource.services.all()``.

    A list of resources takes them in its own query: ``prefetch_related("services")`` builds a related
    manager and a queryset per resource, which cost ~25 ms for an organization's 1,000 resources."""
    listed = Resource.services.through.objects.filter(resource_id=OuterRef("pk"))
    ordered = listed.order_by("service__organization_id", "service__name", "service_id")
    return ArraySubquery(ordered.values("service_id"))


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


def default_step_minutes(duration_minutes: int) -> int:
    """30-minute steps for durations that are multiples of 30, 15-minute otherwise."""
    return 30 if duration_minutes % 30 == 0 else 15


def service_for_resource(*, resource: Resource, service: Service | int) -> Service:
    """``service`` (an instance or an id) if it is an active service of the resource's organization.

    Raises ValidationError ``invalid_service`` otherwise (unknown, inactive, another organization's).
    """
    service_id = service.pk if isinstance(service, Service) else service
    found = Service.objects.filter(pk=service_id, organization_id=resource.organization_id, is_active=True).first()
    if found is None:
        raise errors.ValidationError(_("This service is not offered here."), code="invalid_service")
    return found


@dataclass(frozen=True)
class SlotLength:
    service: Service | None
    duration_minutes: int
    step_minutes: int


def slot_length(
    *,
    resource: Resource,
    service: Service | int | None = None,
    duration_minutes: int | None = None,
    step_minutes: int | None = None,
    moving: Booking | None = None,
) -> SlotLength:
    """How long the slots offered for ``resource`` are, and how far apart they start.

    The one rule for the booking page and the API: a service (checked with
    ``service_for_resource``) sets the length; a booking being moved without a
    service keeps its own length; otherwise ``duration_minutes`` or
    DEFAULT_DURATION_MINUTES. Starts are ``step_minutes`` apart, by default 30
    for lengths that are multiples of 30 and 15 otherwise.
    """
    chosen = service_for_resource(resource=resource, service=service) if service else None
    if moving is not None and not moving.service_id:
        minutes = int((moving.ends_at - moving.starts_at).total_seconds() // 60)
    elif chosen is not None:
        minutes = chosen.duration_minutes
    else:
        minutes = duration_minutes or DEFAULT_DURATION_MINUTES
    return SlotLength(
        service=chosen, duration_minutes=minutes, step_minutes=step_minutes or default_step_minutes(minutes)
    )


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


def _participant_booking_ids(user: User, *statuses: str) -> QuerySet[BookingParticipant, Any]:  # rows of booking_id
    statuses = statuses or (BookingParticipant.Status.ACCEPTED,)
    return BookingParticipant.objects.filter(user=user, status__in=statuses).values("booking_id")


def booking_list_for_user(*, user: User, when: str | None = None, now: datetime | None = None) -> QuerySet[Booking]:
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


def booking_list_upcoming_for_user(*, user: User) -> QuerySet[Booking]:
    """Active bookings that have not ended where ``user`` books or takes part, soonest first."""
    return booking_list_for_user(user=user, when="upcoming")


def booking_get_for_user(*, user: User, pk: int) -> Booking | None:
    """A booking the user may see: theirs, one they take part in or are invited to, or one of an
    organization they manage."""
    queryset = Booking.objects.select_related("resource__organization__city", "service", "user")
    invited_or_taking_part = _participant_booking_ids(
        user, BookingParticipant.Status.INVITED, BookingParticipant.Status.ACCEPTED
    )
    return queryset.filter(
        Q(user=user)
        | Q(pk__in=invited_or_taking_part)
        | Q(resource__organization__in=organizations_managed_by(user=user)),
        pk=pk,
    ).first()


def booking_invitations_for_user(*, user: User, now: datetime | None = None) -> QuerySet[Booking]:
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
    *,
    user: User | AnonymousUser | None,
    organization: Organization | None = None,
    day: date | None = None,
    status: str | None = None,
) -> QuerySet[Booking]:
    """Bookings of the resources of the organizations ``user`` manages (all for staff)."""
    queryset = Booking.objects.select_related("resource__organization__city", "service", "user").filter(
        resource__organization__in=organizations_managed_by(user=user)
    )
    if organization is not None:
        queryset = queryset.filter(resource__organization=organization)
        if day is not None:
            zone = organization.city.tzinfo
            start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
            queryset = queryset.filter(starts_at__lt=start + timedelta(days=1), ends_at__gt=start)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("starts_at", "pk")


def organization_list_managed(*, user: User | AnonymousUser | None) -> QuerySet[Organization]:
    """The organizations whose bookings, resources and hours ``user`` manages, by name."""
    return organizations_managed_by(user=user).select_related("city").order_by("name")


def booking_participants(*, booking: Booking) -> QuerySet[BookingParticipant]:
    """Who takes part: invitations show up only once accepted, so the booker learns
    nothing about an email they invited until its owner chooses to join."""
    return (
        booking.participant_links.filter(status=BookingParticipant.Status.ACCEPTED)
        .select_related("user")
        .order_by("responded_at", "pk")
    )


# --- reviews --------------------------------------------------------------------------------


def review_list_for_organization(*, organization: Organization | int) -> QuerySet[Review]:
    """The organization's visible reviews, newest first, with their authors."""
    return (
        Review.objects.filter(organization=organization, is_hidden=False)
        .select_related("author")
        .order_by("-created_at", "-pk")
    )


# --- the organization page: opening hours of the week ------------------------------------------


@dataclass(frozen=True)
class DayHours:
    weekday: int
    name: str
    intervals: list[tuple[time, time]]
    is_today: bool
    closed_today: bool = False
    closure_reason: str = ""


@dataclass(frozen=True)
class WeekHours:
    days: list[DayHours]
    open_now: bool
    open_until: datetime | None  # local time the current open interval ends
    around_the_clock: bool  # open now and for at least the next 24 hours
    opens_at: datetime | None  # local time it opens next today, when closed now
    has_hours: bool


def organization_week_hours(*, organization: Organization, now: datetime | None = None) -> WeekHours:
    """The weekly opening hours (Monday first, today marked) and whether it is open now, in the city's zone.

    "Now" honours closed days and evenings that continue past midnight
    (bookings.hours.open_intervals); four queries.
    """
    now = now or timezone.now()
    zone = organization.city.tzinfo
    local_now = timezone.localtime(now, zone)
    today = local_now.date()
    rows: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens_at, closes_at in OpeningHours.objects.filter(organization=organization).values_list(
        "weekday", "opens_at", "closes_at"
    ):
        rows.setdefault(weekday, []).append((opens_at, closes_at))
    intervals = open_intervals(
        organization=organization, first_day=today - timedelta(days=1), last_day=today + timedelta(days=1), zone=zone
    )
    current = next((i for i in intervals if i.start <= now < i.end), None)
    later_today = [i for i in intervals if i.start > now and timezone.localtime(i.start, zone).date() == today]
    closure = Closure.objects.filter(organization=organization, date=today).first()
    days = [
        DayHours(
            weekday=weekday,
            name=str(OpeningHours.Weekday(weekday).label),
            intervals=sorted(rows.get(weekday, [])),
            is_today=weekday == today.weekday(),
            closed_today=closure is not None and weekday == today.weekday(),
            closure_reason=closure.reason if closure is not None and weekday == today.weekday() else "",
        )
        for weekday in range(7)
    ]
    return WeekHours(
        days=days,
        open_now=current is not None,
        open_until=timezone.localtime(current.end, zone) if current else None,
        around_the_clock=current is not None and current.end - now >= timedelta(hours=24),
        opens_at=timezone.localtime(later_today[0].start, zone) if (not current and later_today) else None,
        has_hours=bool(rows),
    )


# --- the catalog's "has free time today" filter ---------------------------------------------------


def _first_free_start(
    *, intervals: list[tuple[datetime, datetime]], busy: list[tuple[datetime, datetime]], minutes: int, now: datetime
) -> datetime | None:
    """The first slot start (on the opening-time grid, as resource_free_slots steps) that is free."""
    duration = timedelta(minutes=minutes)
    step = timedelta(minutes=default_step_minutes(minutes))
    for start, end in intervals:
        slot = start
        if slot < now:
            slot += ((now - slot + step - timedelta(microseconds=1)) // step) * step
        while slot + duration <= end:
            slot_end = slot + duration
            if not any(b_start < slot_end and b_end > slot for b_start, b_end in busy):
                return slot
            slot += step
    return None


def organizations_free_today(queryset: QuerySet[Organization], *, now: datetime) -> QuerySet[Organization]:
    """The organizations of ``queryset`` where a client can still book something today.

    "Something" is the shortest active service (an hour without services) on
    one of the active resources, starting on the slot grid at or after ``now``
    and ending inside today's opening hours, free of active bookings. "Today"
    is each organization's own date in its city. Six queries whatever the
    catalog's size: the candidates open later today with an active resource
    (SQL), then their hours, closed days, resources, services and today's
    bookings, checked in Python. Registered with catalog in BookingsConfig.ready().
    """
    zones: dict[str, list[int]] = {}
    for city_id, zone_name in City.objects.values_list("pk", "timezone"):
        zones.setdefault(zone_name, []).append(city_id)
    by_zone = Q(pk__in=[])
    local_days = {}
    for zone_name, city_ids in zones.items():
        local = timezone.localtime(now, ZoneInfo(zone_name))
        local_days[zone_name] = local.date()
        open_later = OpeningHours.objects.filter(organization=OuterRef("pk"), weekday=local.weekday()).filter(
            Q(closes_at__gt=local.time()) | Q(closes_at=time(0))
        )
        closed = Closure.objects.filter(organization=OuterRef("pk"), date=local.date())
        by_zone |= Q(city_id__in=city_ids) & Exists(open_later) & ~Exists(closed)
    has_resource = Exists(Resource.objects.filter(organization=OuterRef("pk"), is_active=True))
    candidates = dict(queryset.filter(by_zone & has_resource).order_by().values_list("pk", "city__timezone"))
    if not candidates:
        return queryset.none()
    hours: dict[int, list[tuple[int, time, time]]] = {}
    for organization_id, weekday, opens_at, closes_at in OpeningHours.objects.filter(
        organization_id__in=candidates
    ).values_list("organization_id", "weekday", "opens_at", "closes_at"):
        hours.setdefault(organization_id, []).append((weekday, opens_at, closes_at))
    shortest = dict(
        Service.objects.filter(organization_id__in=candidates, is_active=True)
        .order_by()
        .values("organization_id")
        .annotate(m=Min("duration_minutes"))
        .values_list("organization_id", "m")
    )
    resources: dict[int, list[int]] = {}
    for resource_id, organization_id in Resource.objects.filter(
        organization_id__in=candidates, is_active=True
    ).values_list("pk", "organization_id"):
        resources.setdefault(organization_id, []).append(resource_id)
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    for resource_id, starts_at, ends_at in _overlapping_active(
        Booking.objects.filter(resource__organization_id__in=candidates), now, now + timedelta(days=2)
    ).values_list("resource_id", "starts_at", "ends_at"):
        busy.setdefault(resource_id, []).append((starts_at, ends_at))
    free = []
    for organization_id, zone_name in candidates.items():
        zone = ZoneInfo(zone_name)
        day = local_days[zone_name]
        intervals = []
        for weekday, opens_at, closes_at in hours.get(organization_id, []):
            if weekday != day.weekday():
                continue
            start = datetime.combine(day, opens_at, tzinfo=zone).astimezone(UTC)
            end_day = day + timedelta(days=1) if closes_at == time(0) else day
            end = datetime.combine(end_day, closes_at, tzinfo=zone).astimezone(UTC)
            intervals.append((start, end))
        minutes = shortest.get(organization_id, DEFAULT_DURATION_MINUTES)
        if any(
            _first_free_start(intervals=intervals, busy=busy.get(resource_id, []), minutes=minutes, now=now)
            for resource_id in resources.get(organization_id, [])
        ):
            free.append(organization_id)
    return queryset.filter(pk__in=free)


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


# --- service-first booking ----------------------------------------------------------------


def resources_offering(*, service: Service) -> QuerySet[Resource]:
    """Active resources that offer ``service`` (a resource listing no service offers them all), by name."""
    return Resource.objects.filter(is_active=True).offering(service).order_by("name", "pk")


@dataclass(frozen=True)
class ResourceSlot:
    """A free start time and the resource that is free then (the first by name, for "any")."""

    starts_at: datetime
    ends_at: datetime
    resource: Resource


def service_free_slots(
    *,
    service: Service,
    day: date,
    resources: list[Resource] | None = None,
    now: datetime | None = None,
    exclude_booking: Booking | None = None,
) -> list[ResourceSlot]:
    """Free start times on local date ``day`` for ``service`` with any of ``resources``
    (default: every active resource offering it), each with the first resource free then."""
    resources = list(resources_offering(service=service) if resources is None else resources)
    by_start: dict[datetime, ResourceSlot] = {}
    for resource in resources:
        for slot in resource_free_slots(
            resource=resource,
            day=day,
            duration_minutes=service.duration_minutes,
            now=now,
            exclude_booking=exclude_booking,
        ):
            by_start.setdefault(slot.starts_at, ResourceSlot(slot.starts_at, slot.ends_at, resource))
    return [by_start[start] for start in sorted(by_start)]


def open_days(*, organization: Organization, first_day: date, days: int) -> list[tuple[date, bool]]:
    """The next ``days`` local dates from ``first_day``, each with whether the organization opens then."""
    weekdays = set(OpeningHours.objects.filter(organization=organization).values_list("weekday", flat=True))
    last_day = first_day + timedelta(days=days - 1)
    closed = set(
        Closure.objects.filter(organization=organization, date__gte=first_day, date__lte=last_day).values_list(
            "date", flat=True
        )
    )
    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        result.append((day, day.weekday() in weekdays and day not in closed))
    return result


# --- is there anything to book? ---------------------------------------------------------------


@dataclass(frozen=True)
class Bookability:
    organization_id: int
    is_visible: bool
    has_hours: bool
    active_resources: int
    bookable_service_ids: frozenset[int]
    services_without_resource: tuple[str, ...]
    steps: tuple[SetupStep, ...] = ()

    @property
    def is_bookable(self) -> bool:
        """Clients can book: the organization is in the catalog, has opening hours and an active resource."""
        return self.is_visible and self.has_hours and self.active_resources > 0

    @property
    def missing(self) -> tuple[SetupStep, ...]:
        return tuple(step for step in self.steps if not step.done)


def organization_bookability(*, organization: Organization, now: datetime | None = None) -> Bookability:
    """Whether (and for which services) ``organization`` can be booked, and what its owner still has to set up.

    A service gets a book button when the organization is bookable and an
    active resource offers it. A handful of queries, whatever the size.
    """
    is_visible = Organization.objects.visible(now=now).filter(pk=organization.pk).exists()
    has_hours = OpeningHours.objects.filter(organization=organization).exists()
    resources = list(
        Resource.objects.filter(organization=organization, is_active=True).prefetch_related(
            Prefetch("services", queryset=Service.objects.only("pk", "organization_id"))
        )
    )
    services = list(Service.objects.filter(organization=organization, is_active=True).order_by("name", "pk"))
    offered = {s.pk for s in services if any(r.offers(s) for r in resources)}
    without = tuple(s.name for s in services if s.pk not in offered)
    bookable = is_visible and has_hours and bool(resources)
    published = organization.status == Organization.Status.PUBLISHED
    steps = (
        SetupStep(
            "services",
            _("Services with prices and durations"),
            bool(services),
            reverse("catalog:services", args=[organization.pk]),
            required=False,
            detail=_("Without services, clients book places by the hour."),
        ),
        SetupStep(
            "resources",
            _("Places or specialists clients book"),
            bool(resources),
            reverse("bookings:owner_resources", args=[organization.pk]),
        ),
        SetupStep(
            "service_resources",
            _("Every service has a place or specialist"),
            not without,
            reverse("bookings:owner_resources", args=[organization.pk]),
            required=False,
            detail=_("Nobody offers: %(services)s.") % {"services": ", ".join(without)} if without else "",
        ),
        SetupStep("hours", _("Opening hours"), has_hours, reverse("bookings:opening_hours", args=[organization.pk])),
        SetupStep("published", _("The organization is published"), published, reverse("catalog:my_organizations")),
        SetupStep(
            "listed",
            _("A paid subscription keeps it in the catalog"),
            organization.is_listed,
            reverse("billing:subscribe", args=[organization.pk]),
        ),
    )
    return Bookability(
        organization_id=organization.pk,
        is_visible=is_visible,
        has_hours=has_hours,
        active_resources=len(resources),
        bookable_service_ids=frozenset(offered) if bookable else frozenset(),
        services_without_resource=without,
        steps=steps,
    )


def organization_booking_links(*, organization: Organization) -> BookingLinks:
    """What the catalog's pages show (registered with ``catalog.booking_links`` in BookingsConfig.ready())."""
    bookability = organization_bookability(organization=organization)
    return BookingLinks(
        url=reverse("bookings:organization", args=[organization.pk]) if bookability.is_bookable else None,
        service_ids=bookability.bookable_service_ids,
        steps=bookability.steps,
    )


@dataclass(frozen=True)
class DayColumn:
    """One place or specialist in the owner's day view, with its bookings of the day."""

    resource: Resource
    bookings: list[Booking]


def owner_day_columns(*, organization: Organization, bookings: list[Booking]) -> list[DayColumn]:
    """The owner's day, per resource: every active resource (even without bookings), then any
    inactive one that still has bookings that day; bookings by start time."""
    by_resource: dict[int, list[Booking]] = {}
    for booking in sorted(bookings, key=lambda b: (b.starts_at, b.pk)):
        by_resource.setdefault(booking.resource_id, []).append(booking)
    resources = Resource.objects.filter(organization=organization).filter(
        Q(is_active=True) | Q(pk__in=list(by_resource))
    )
    return [DayColumn(r, by_resource.get(r.pk, [])) for r in resources.order_by("name", "pk")]
