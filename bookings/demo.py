"""Demo data for bookings: every demo organization gets places or specialists and opening hours,
so each of its services has a book button that leads to free time; the demo users get bookings
in the future and in the past (attended and missed).

Uses the catalog's demo organizations when they exist (context["organizations"],
context["coworking"], context["barbershop"]) and creates small stand-ins otherwise.
Idempotent: rows are found by stable keys; opening hours and a resource's services
are written only the first time, so an owner's later edits survive a re-run.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from bookings.models import Booking, BookingParticipant, OpeningHours, Resource, Review
from bookings.services import review_create, review_reply
from catalog.models import Organization, Service
from portal.demo import first_or_create
from portal.models import City, User

SEAT, ROOM, SPECIALIST = Resource.Kind.SEAT, Resource.Kind.ROOM, Resource.Kind.SPECIALIST

# category slug → [(name, kind, capacity, amenities, services offered (names; None = every service))]
RESOURCES = {
    "coworking": [
        ("Место у окна 1", SEAT, 1, ["розетка", "окно"], ["Рабочее место на час", "Рабочее место на день"]),
        ("Место у окна 2", SEAT, 1, ["розетка", "окно"], ["Рабочее место на час", "Рабочее место на день"]),
        ("Место 3", SEAT, 1, ["розетка"], ["Рабочее место на час", "Рабочее место на день"]),
        ("Место 4", SEAT, 1, ["розетка"], ["Рабочее место на час", "Рабочее место на день"]),
        ("Переговорная «Малая»", ROOM, 4, ["экран", "доска"], ["Переговорная на час"]),
        ("Переговорная «Большая»", ROOM, 8, ["проектор", "доска", "видеосвязь"], ["Переговорная на час"]),
    ],
    "barbershop": [
        ("Мастер Артём", SPECIALIST, None, [], None),
        ("Мастер Ильдар", SPECIALIST, None, [], None),
        ("Мастер Софья", SPECIALIST, None, [], ["Мужская стрижка"]),
    ],
    "beauty-salon": [("Мастер Алина", SPECIALIST, None, [], None), ("Мастер Карина", SPECIALIST, None, [], None)],
    "manicure": [("Мастер Вера", SPECIALIST, None, [], None), ("Мастер Дина", SPECIALIST, None, [], None)],
    "massage": [("Массажист Павел", SPECIALIST, None, [], None), ("Массажист Ирина", SPECIALIST, None, [], None)],
    "plumbing": [("Сантехник Николай", SPECIALIST, None, [], None), ("Сантехник Руслан", SPECIALIST, None, [], None)],
    "electrician": [("Электрик Сергей", SPECIALIST, None, [], None)],
    "appliance-repair": [("Мастер Андрей", SPECIALIST, None, [], None)],
    "tutors": [("Преподаватель Анна", SPECIALIST, None, [], None)],
    "language-school": [
        ("Класс «Лондон»", ROOM, 8, ["доска", "экран"], ["Групповое занятие"]),
        ("Преподаватель Эмили", SPECIALIST, None, [], ["Индивидуальное занятие"]),
    ],
    "fitness": [
        ("Тренажёрный зал", ROOM, 30, ["кардиозона", "свободные веса"], ["Разовое посещение"]),
        ("Тренер Максим", SPECIALIST, None, [], ["Персональная тренировка"]),
    ],
    "yoga": [
        ("Зал «Солнце»", ROOM, 12, ["коврики", "пледы"], ["Групповое занятие"]),
        ("Инструктор Мария", SPECIALIST, None, [], ["Индивидуальное занятие"]),
    ],
    "auto": [("Бокс 1", ROOM, None, ["подъёмник"], None), ("Бокс 2", ROOM, None, ["подъёмник"], None)],
    "photo-studio": [
        ("Зал «Белый»", ROOM, 10, ["циклорама", "свет"], ["Аренда зала на час"]),
        ("Фотограф Ольга", SPECIALIST, None, [], ["Фотосессия с фотографом"]),
    ],
    "cleaning": [("Бригада Светланы", SPECIALIST, None, [], None), ("Бригада Игоря", SPECIALIST, None, [], None)],
    "vet": [("Врач Екатерина", SPECIALIST, None, [], None), ("Врач Тимур", SPECIALIST, None, [], None)],
}
DEFAULT_RESOURCES: list[tuple[str, str, int | None, list[str], list[str] | None]] = [
    ("Специалист", SPECIALIST, None, [], None)
]


def _every_day(opens: int, closes: int, days=range(7)) -> dict[int, list[tuple[time, time]]]:
    return {d: [(time(opens), time(closes % 24))] for d in days}


WEEKDAYS_AND_SATURDAY = range(6)
# category slug → {weekday: [(opens, closes)]}; a weekday missing is a day off.
HOURS = {
    "coworking": _every_day(8, 22),
    "barbershop": {d: [(time(10), time(14)), (time(15), time(21))] for d in WEEKDAYS_AND_SATURDAY},
    "fitness": _every_day(7, 23),
    "yoga": _every_day(8, 21),
    "vet": _every_day(9, 21),
    "plumbing": _every_day(9, 19, WEEKDAYS_AND_SATURDAY),
    "electrician": _every_day(9, 19, WEEKDAYS_AND_SATURDAY),
    "cleaning": _every_day(9, 19, WEEKDAYS_AND_SATURDAY),
}
DEFAULT_HOURS = _every_day(10, 20, WEEKDAYS_AND_SATURDAY)


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


def _kind(organization) -> str:
    """The demo category that decides the organization's resources and hours."""
    slugs = list(organization.categories.values_list("slug", flat=True))
    return next((slug for slug in slugs if slug in RESOURCES), "")


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
    services = {s.name: s for s in Service.objects.filter(organization=organization).order_by("-pk")}
    for name, kind, capacity, amenities, offered in rows:
        resource, created = first_or_create(
            Resource,
            organization=organization,
            name=name,
            defaults={"kind": kind, "capacity": capacity, "amenities": amenities},
        )
        if created and offered:
            resource.services.set([services[n] for n in offered if n in services])
        resources.append(resource)
    return resources


def _at(resource, *, day_offset: int, at: time) -> datetime:
    zone = resource.organization.city.tzinfo
    day = timezone.localtime(timezone.now(), zone).date() + timedelta(days=day_offset)
    return datetime.combine(day, at, tzinfo=zone)


def _book(
    *, resource, user, day_offset: int, at: time, minutes: int, service=None, comment: str = "", phone: str = ""
) -> Booking | None:
    """One upcoming demo booking per (resource, user); skipped if the time is taken."""
    existing = Booking.objects.filter(resource=resource, user=user).exclude(status__in=PAST_STATUSES).first()
    if existing:
        return existing
    starts_at = _at(resource, day_offset=day_offset, at=at)
    ends_at = starts_at + timedelta(minutes=minutes)
    if Booking.objects.filter(resource=resource).active().overlapping(starts_at, ends_at).exists():
        return None
    return Booking.objects.create(
        resource=resource,
        user=user,
        service=service,
        starts_at=starts_at,
        ends_at=ends_at,
        scheduled_at=timezone.now(),
        comment=comment,
        phone=phone,
    )


PAST_STATUSES = (Booking.Status.COMPLETED, Booking.Status.NO_SHOW)


def _past(*, resource, user, days_ago: int, at: time, service, status: str) -> Booking:
    """One finished demo booking per (resource, user, status): attended (completed) or missed (no-show)."""
    existing = Booking.objects.filter(resource=resource, user=user, status=status).first()
    if existing:
        return existing
    starts_at = _at(resource, day_offset=-days_ago, at=at)
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    attended = status == Booking.Status.COMPLETED
    return Booking.objects.create(
        resource=resource,
        user=user,
        service=service,
        starts_at=starts_at,
        ends_at=ends_at,
        status=status,
        scheduled_at=starts_at - timedelta(days=2),
        checked_in_at=starts_at - timedelta(minutes=5) if attended else None,
        checked_in_by=resource.organization.owner if attended else None,
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
        "demo-coworking",
        "Демо-коворкинг",
        [("Рабочее место на час", 250, 60), ("Рабочее место на день", 900, 600), ("Переговорная на час", 1500, 60)],
        users[0],
    )
    barbershop = context.get("barbershop") or _fallback_organization(
        "demo-barbershop",
        "Демо-барбершоп",
        [("Мужская стрижка", 1800, 60), ("Стрижка бороды", 1200, 30)],
        users[0],
    )
    organizations = list(context.get("organizations") or [coworking, barbershop])
    if coworking not in organizations:
        organizations.append(coworking)
    if barbershop not in organizations:
        organizations.append(barbershop)

    resources_by_org: dict[int, list[Resource]] = {}
    for organization in organizations:
        kind = _kind(organization) or ("coworking" if organization == coworking else "")
        if organization == barbershop:
            kind = "barbershop"
        _hours(organization, HOURS.get(kind, DEFAULT_HOURS))
        resources_by_org[organization.pk] = _resources(organization, RESOURCES.get(kind, DEFAULT_RESOURCES))

    seats_and_rooms = resources_by_org[coworking.pk]
    masters = resources_by_org[barbershop.pk]
    haircut = barbershop.services.filter(is_active=True, name="Мужская стрижка").first() or (
        barbershop.services.filter(is_active=True).order_by("duration_minutes", "pk").last()
    )
    seat_hour = coworking.services.filter(is_active=True, name="Рабочее место на час").first()
    room_hour = coworking.services.filter(is_active=True, name="Переговорная на час").first()

    bookings = []
    for index, client in enumerate(users[:4]):
        if client.pk != barbershop.owner_id and haircut:
            master = masters[index % len(masters)]
            bookings.append(
                _book(
                    resource=master,
                    user=client,
                    day_offset=1 + index,
                    at=time(11 + index % 3),
                    minutes=haircut.duration_minutes,
                    service=haircut,
                    comment="Покороче на висках, бороду не трогать." if index == 0 else "",
                    phone="+79990001122" if index == 0 else "",
                )
            )
            bookings.append(
                _past(
                    resource=master,
                    user=client,
                    days_ago=7 + index,
                    at=time(12),
                    service=haircut,
                    status=Booking.Status.COMPLETED,
                )
            )
        if client.pk != coworking.owner_id and seat_hour:
            seat = seats_and_rooms[index % 4]
            bookings.append(
                _book(
                    resource=seat,
                    user=client,
                    day_offset=1 + index % 3,
                    at=time(10),
                    minutes=seat_hour.duration_minutes,
                    service=seat_hour,
                )
            )
            for days_ago, status in ((3 + index, Booking.Status.NO_SHOW), (10 + index, Booking.Status.COMPLETED)):
                bookings.append(
                    _past(resource=seat, user=client, days_ago=days_ago, at=time(9), service=seat_hour, status=status)
                )
    booker = next((u for u in users if u.pk != coworking.owner_id), None)
    meeting = None
    if booker and room_hour:
        meeting = _book(
            resource=seats_and_rooms[5],
            user=booker,
            day_offset=2,
            at=time(15),
            minutes=room_hour.duration_minutes,
            service=room_hour,
        )
    clients = [u for u in users if u.pk not in (coworking.owner_id, barbershop.owner_id)] or users
    reviews = _reviews(
        clients=clients,
        places=[
            (seats_and_rooms[0], None, 240),
            (masters[0], haircut, haircut.duration_minutes if haircut else 60),
        ],
    )
    if meeting and booker:
        for guest in [u for u in users if u.pk != booker.pk][:2]:
            BookingParticipant.objects.get_or_create(
                booking=meeting, user=guest, defaults={"status": BookingParticipant.Status.ACCEPTED}
            )
    bookings = [b for b in [*bookings, meeting] if b]
    resources = [r for rows in resources_by_org.values() for r in rows]
    stdout.write(
        f"  bookings: {len(resources)} places and specialists in {len(organizations)} organizations, "
        f"{len(bookings)} bookings, {reviews} new reviews"
    )
    return {"resources": resources, "bookings": bookings}
