"""Demo data for bookings: a coworking with seats and rooms, a barbershop with masters.

Uses the catalog's demo organizations when they exist (context["coworking"],
context["barbershop"]) and creates small stand-ins otherwise. Idempotent: rows
are found by stable keys, and a demo user's booking at a resource is made once.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from bookings.models import Booking, BookingParticipant, OpeningHours, Resource, Review
from bookings.services import review_create, review_reply
from catalog.models import Organization, Service
from portal.demo import first_or_create
from portal.models import City, User

COWORKING_RESOURCES = [
    ("Место у окна 1", Resource.Kind.SEAT, 1, ["розетка", "окно"]),
    ("Место у окна 2", Resource.Kind.SEAT, 1, ["розетка", "окно"]),
    ("Место 3", Resource.Kind.SEAT, 1, ["розетка"]),
    ("Место 4", Resource.Kind.SEAT, 1, ["розетка"]),
    ("Переговорная «Малая»", Resource.Kind.ROOM, 4, ["экран", "доска"]),
    ("Переговорная «Большая»", Resource.Kind.ROOM, 8, ["проектор", "доска", "видеосвязь"]),
]
BARBERSHOP_RESOURCES = [
    ("Мастер Артём", Resource.Kind.SPECIALIST, None, []),
    ("Мастер Ильдар", Resource.Kind.SPECIALIST, None, []),
    ("Мастер Софья", Resource.Kind.SPECIALIST, None, []),
]


def _fallback_organization(slug: str, name: str, services: list[tuple[str, int, int]], owner):
    city, _ = City.objects.get_or_create(slug="moscow", defaults={"name": "Москва", "timezone": "Europe/Moscow"})
    organization, _ = Organization.objects.get_or_create(
        city=city,
        slug=slug,
        defaults={
            "owner": owner,
            "name": name,
            "status": Organization.Status.PUBLISHED,
            "listed_until": timezone.now() + timedelta(days=365),
        },
    )
    for service_name, price, minutes in services:
        first_or_create(
            Service,
            organization=organization,
            name=service_name,
            defaults={"price": Decimal(price), "duration_minutes": minutes},
        )
    return organization


def _hours(organization, spec: dict[int, list[tuple[time, time]]]) -> None:
    if OpeningHours.objects.filter(organization=organization).exists():
        return
    OpeningHours.objects.bulk_create(
        [
            OpeningHours(organization=organization, weekday=weekday, opens_at=opens, closes_at=closes)
            for weekday, intervals in spec.items()
            for opens, closes in intervals
        ]
    )


def _resources(organization, rows) -> list[Resource]:
    resources = []
    for name, kind, capacity, amenities in rows:
        resource, _ = first_or_create(
            Resource,
            organization=organization,
            name=name,
            defaults={"kind": kind, "capacity": capacity, "amenities": amenities},
        )
        resources.append(resource)
    return resources


def _book(*, resource, user, day_offset: int, at: time, minutes: int, service=None) -> Booking | None:
    """One demo booking per (resource, user); skipped if the time is taken."""
    existing = Booking.objects.filter(resource=resource, user=user).first()
    if existing:
        return existing
    zone = resource.organization.city.tzinfo
    day = timezone.localtime(timezone.now(), zone).date() + timedelta(days=day_offset)
    starts_at = datetime.combine(day, at, tzinfo=zone)
    ends_at = starts_at + timedelta(minutes=minutes)
    if Booking.objects.filter(resource=resource).active().overlapping(starts_at, ends_at).exists():
        return None
    return Booking.objects.create(
        resource=resource, user=user, service=service, starts_at=starts_at, ends_at=ends_at, scheduled_at=timezone.now()
    )


REVIEWS = [
    (5, "Отличное место: тихо, быстрый интернет и вкусный кофе. Приду ещё."),
    (4, "Удобно добираться, всё понравилось. Хотелось бы больше розеток у окна."),
    (5, "Мастер сделал ровно то, что я просил, и дал советы по уходу за бородой."),
    (4, "Хорошая стрижка, но пришлось подождать минут десять."),
]


def _past_visit(*, resource, user, days_ago: int, at: time, minutes: int, service=None) -> Booking:
    """A completed visit in the past (written directly: a booking can only be made for the future)."""
    existing = Booking.objects.filter(resource=resource, user=user, status=Booking.Status.COMPLETED).first()
    if existing:
        return existing
    zone = resource.organization.city.tzinfo
    day = timezone.localtime(timezone.now(), zone).date() - timedelta(days=days_ago)
    starts_at = datetime.combine(day, at, tzinfo=zone)
    return Booking.objects.create(
        resource=resource,
        user=user,
        service=service,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        status=Booking.Status.COMPLETED,
        checked_in_at=starts_at,
        scheduled_at=starts_at - timedelta(days=1),
        review_reminded_at=starts_at + timedelta(days=1),
    )


def _reviews(*, clients, places) -> int:
    """A few reviews of past visits through the review service (ratings follow), one answered."""
    made = 0
    for index, client in enumerate(clients[:2]):
        for offset, (resource, service, minutes) in enumerate(places):
            visit = _past_visit(
                resource=resource,
                user=client,
                days_ago=3 + index + offset,
                at=time(12),
                minutes=minutes,
                service=service,
            )
            if Review.objects.filter(booking=visit).exists():
                continue
            rating, text = REVIEWS[(offset * 2 + index) % len(REVIEWS)]
            review = review_create(
                user=client, organization=resource.organization_id, booking=visit, rating=rating, text=text
            )
            made += 1
            if index == 0:
                review_reply(review=review, by=resource.organization.owner, text="Спасибо за отзыв! Ждём вас снова.")
    return made


def seed(stdout, context) -> dict:
    users = list(context.get("users") or [])
    if not users:
        demo_user, _ = User.objects.get_or_create(email="client@citydesk.local", defaults={"first_name": "Анна"})
        users = [demo_user]
    coworking = context.get("coworking") or _fallback_organization(
        "demo-coworking", "Демо-коворкинг", [("Рабочее место на час", 250, 60)], users[0]
    )
    barbershop = context.get("barbershop") or _fallback_organization(
        "demo-barbershop", "Демо-барбершоп", [("Мужская стрижка", 1800, 60), ("Стрижка бороды", 1200, 30)], users[0]
    )

    _hours(coworking, {d: [(time(8), time(22))] for d in range(7)})
    weekdays = {d: [(time(10), time(14)), (time(15), time(21))] for d in range(6)}  # lunch break, Sunday off
    _hours(barbershop, weekdays)
    seats_and_rooms = _resources(coworking, COWORKING_RESOURCES)
    masters = _resources(barbershop, BARBERSHOP_RESOURCES)

    clients = [u for u in users if u.pk not in (coworking.owner_id, barbershop.owner_id)] or users
    bookings = []
    haircut = barbershop.services.filter(is_active=True).order_by("duration_minutes", "pk").last()
    for index, client in enumerate(clients[:4]):
        bookings.append(
            _book(resource=seats_and_rooms[index % 4], user=client, day_offset=1 + index % 3, at=time(10), minutes=240)
        )
        if haircut:
            bookings.append(
                _book(
                    resource=masters[index % len(masters)],
                    user=client,
                    day_offset=1 + index,
                    at=time(11 + index % 3),
                    minutes=haircut.duration_minutes,
                    service=haircut,
                )
            )
    meeting = _book(resource=seats_and_rooms[5], user=clients[0], day_offset=2, at=time(15), minutes=90)
    # The other demo organizations show opening hours on their pages too (Monday to Saturday, 10–20).
    for organization in context.get("organizations") or []:
        _hours(organization, {d: [(time(10), time(20))] for d in range(6)})
    reviews = _reviews(
        clients=clients,
        places=[
            (seats_and_rooms[0], None, 240),
            (masters[0], haircut, haircut.duration_minutes if haircut else 60),
        ],
    )
    if meeting and len(clients) > 1:
        for guest in clients[1:3]:
            BookingParticipant.objects.get_or_create(
                booking=meeting, user=guest, defaults={"status": BookingParticipant.Status.ACCEPTED}
            )
    bookings = [b for b in [*bookings, meeting] if b]
    stdout.write(
        f"  bookings: {len(seats_and_rooms)} coworking resources, {len(masters)} masters, {len(bookings)} bookings, "
        f"{reviews} new reviews"
    )
    return {"resources": seats_and_rooms + masters, "bookings": bookings}
