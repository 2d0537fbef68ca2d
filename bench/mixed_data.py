"""The mixed-load data set and the requests drawn from it (bench_mixed, bench_soak, bench_scaleout).

Data (created once in the benchmark's database, reused by later runs):

- ``BENCH_MIXED_ORGS`` (default 3,000) listed organizations seeded the way
  bench/bench_catalog.py seeds its catalog (6 cities, the demo categories, 2
  services each, a photo on every third);
- ``BENCH_MIXED_BOOKABLE`` (default 200) of them, spread over the cities and
  kinds, take bookings: open 9:00–21:00 every day in their city's zone, 3
  specialists each offering every service of the organization;
- ``BENCH_MIXED_USERS`` (default 300) Mini App users: Telegram identities made
  by ``portal.services.telegram_user_get_or_create``, as a first Mini App visit
  makes them.

Requests (``Workload.next``), drawn at random with a seed:

=========  ====  ==========================================================================
kind       %     request
=========  ====  ==========================================================================
list       60    ``GET /api/v1/organizations/`` with a city (70 %), a category (50 %) and a
                 page (the first 60 %, else one of the first 20 that exist)
detail     15    ``GET /api/v1/organizations/{id}/`` of any listed organization
slots      15    ``GET /api/v1/resources/{id}/slots/?date=&service=`` of a bookable resource,
                 a day in the next two weeks
me          5    ``GET /api/v1/me/`` as a Mini App user (``Authorization: tma <initData>``)
book        5    ``POST /api/v1/bookings/`` of a free slot as a Mini App user
=========  ====  ==========================================================================

Bookings: each resource is booked for one of its services on that service's
grid (9:00 + k × duration, local time) over the next ``SLOT_DAYS`` days, and a
run never draws the same (resource, day, start) twice, so a 409 ``slot_taken``
means the server let two requests race, not that the bench asked twice. The
bookings of earlier runs are removed when a run starts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from bench.openloop import Prepared, http_request

ORGS = int(os.environ.get("BENCH_MIXED_ORGS", "3000"))
BOOKABLE = int(os.environ.get("BENCH_MIXED_BOOKABLE", "200"))
RESOURCES_PER_ORG = 3
USERS = int(os.environ.get("BENCH_MIXED_USERS", "300"))
# The bot token the benchmark servers are configured with (TELEGRAM_BOT_TOKEN); initData is signed with it.
BOT_TOKEN = "700000001:bench-mixed-bot-token-not-for-production"
TELEGRAM_ID_BASE = 8_100_000_000
OPENS, CLOSES = 9, 21
SLOT_DAYS = 28
RESOURCE_PREFIX = "Bench specialist"
MIX = (("list", 0.60), ("detail", 0.15), ("slots", 0.15), ("me", 0.05), ("book", 0.05))
KINDS = tuple(kind for kind, _share in MIX)
LIST_MAX_PAGE = 20
PAGE_SIZE = 20


def server_environment() -> dict[str, str]:
    """What a benchmark server needs on top of production settings for this workload."""
    return {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_BOT_USERNAME": "citydesk_bench_bot"}


# --- seeding (inside a process with Django set up) ---------------------------------------------


def seed() -> dict[str, float]:
    """Create what is missing of the data set; returns seconds spent per part (0 = reused)."""
    from bench.bench_catalog import _seed as seed_catalog

    spent = {"catalog": seed_catalog(ORGS)}
    started = time.perf_counter()
    created = _seed_bookable()
    spent["bookable"] = time.perf_counter() - started if created else 0.0
    started = time.perf_counter()
    created = _seed_users()
    spent["users"] = time.perf_counter() - started if created else 0.0
    return spent


def _seed_bookable() -> bool:
    from datetime import time as clock

    from django.db import transaction

    from bookings.models import OpeningHours, Resource
    from catalog.models import Organization

    if Resource.objects.filter(name__startswith=RESOURCE_PREFIX).count() >= BOOKABLE * RESOURCES_PER_ORG:
        return False
    visible = list(Organization.objects.visible().order_by("pk").values_list("pk", flat=True))
    stride = max(1, len(visible) // BOOKABLE)
    # Every stride-th organization: the seeding cycles cities and kinds, so these cover all of them.
    chosen = visible[::stride][:BOOKABLE]
    with transaction.atomic():
        Resource.objects.filter(organization_id__in=chosen).delete()
        OpeningHours.objects.filter(organization_id__in=chosen).delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(organization_id=pk, weekday=day, opens_at=clock(OPENS), closes_at=clock(CLOSES))
            for pk in chosen
            for day in range(7)
        )
        Resource.objects.bulk_create(
            Resource(organization_id=pk, name=f"{RESOURCE_PREFIX} {n + 1}", kind=Resource.Kind.SPECIALIST)
            for pk in chosen
            for n in range(RESOURCES_PER_ORG)
        )
    return True


def _seed_users() -> bool:
    from allauth.socialaccount.models import SocialAccount

    from portal.services import telegram_user_get_or_create

    uids = [str(TELEGRAM_ID_BASE + n) for n in range(USERS)]
    if SocialAccount.objects.filter(provider="telegram", uid__in=uids).count() >= USERS:
        return False
    for n in range(USERS):
        telegram_user_get_or_create(telegram_user=telegram_user(n))
    return True


def telegram_user(n: int) -> dict:
    return {"id": TELEGRAM_ID_BASE + n, "first_name": "Гость", "last_name": f"№{n}", "language_code": "ru"}


def bookings_clear() -> None:
    """Remove the bookings of earlier runs (and what hangs on them), so every slot is free again."""
    from django.db import connection

    from bookings.models import Booking

    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE "{Booking._meta.db_table}" CASCADE')


# --- the workload --------------------------------------------------------------------------------


def telegram_init_data(n: int, *, auth_date: int) -> str:
    """Telegram Mini App initData of user ``n``, signed with BOT_TOKEN the way Telegram signs it."""
    fields = {
        "query_id": f"AAbench{n:06d}",
        "user": json.dumps(telegram_user(n), ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(auth_date),
    }
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", BOT_TOKEN.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@dataclass
class Bookable:
    resource: int
    service: int
    minutes: int
    zone: str


@dataclass
class WorkloadData:
    """Everything the requests are drawn from, read from the database once."""

    cities: list[str]
    categories: list[str]
    pages: dict[tuple[str, str], int]  # (city or "", category or "") → pages of 20
    organizations: list[int]
    bookables: list[Bookable]
    users: int


def workload_data() -> WorkloadData:
    from django.db.models import Count

    from bookings.models import Resource
    from catalog import selectors
    from catalog.models import Category, City, Service

    cities = list(City.objects.order_by("pk").values_list("slug", flat=True))
    categories = list(Category.objects.order_by("pk").values_list("slug", flat=True))
    pages = {}
    for city in ["", *cities]:
        for category in ["", *categories]:
            count = selectors.organization_list(city=city or None, category=category or None).count()
            if count:
                pages[(city, category)] = min(LIST_MAX_PAGE, math.ceil(count / PAGE_SIZE))
    organizations = list(selectors.organization_list().values_list("pk", flat=True))
    bookables = []
    resources = (
        Resource.objects.filter(name__startswith=RESOURCE_PREFIX, is_active=True)
        .select_related("organization__city")
        .annotate(listed=Count("services"))
        .order_by("pk")
    )
    services: dict[int, list[tuple[int, int]]] = {}
    for pk, organization, minutes in Service.objects.filter(is_active=True).values_list(
        "pk", "organization_id", "duration_minutes"
    ):
        services.setdefault(organization, []).append((pk, minutes))
    for n, resource in enumerate(resources):
        offered = sorted(services.get(resource.organization_id, []))
        if not offered or resource.listed:
            continue
        service, minutes = offered[n % len(offered)]
        bookables.append(Bookable(resource.pk, service, minutes, resource.organization.city.timezone))
    return WorkloadData(cities, categories, pages, organizations, bookables, USERS)


@dataclass
class Workload:
    """Draws the next request of the mix; one instance per load run (it remembers the slots it booked)."""

    data: WorkloadData
    host: str
    seed: int = 1
    auth_date: int = field(default_factory=lambda: int(time.time()))

    def __post_init__(self):
        from zoneinfo import ZoneInfo

        self.rng = random.Random(self.seed)
        self.thresholds = []
        total = 0.0
        for kind, share in MIX:
            total += share
            self.thresholds.append((total, kind))
        self.auth = [f"tma {telegram_init_data(n, auth_date=self.auth_date)}" for n in range(self.data.users)]
        self.zones = {zone: ZoneInfo(zone) for zone in {b.zone for b in self.data.bookables}}
        self.booked: set[tuple[int, int, int]] = set()
        # Moscow and St Petersburg get most visitors; every city some.
        self.city_weights = [4 if n < 2 else 1 for n in range(len(self.data.cities))]
        self.today = datetime.now(UTC).date()

    def next(self) -> Prepared:
        draw = self.rng.random()
        kind = next((kind for limit, kind in self.thresholds if draw < limit), KINDS[-1])
        return getattr(self, f"_{kind}")()

    def _get(self, kind: str, path: str, headers: dict | None = None) -> Prepared:
        return Prepared(kind, http_request("GET", path, host=self.host, headers=headers))

    def _list(self) -> Prepared:
        rng = self.rng
        city = rng.choices(self.data.cities, self.city_weights)[0] if rng.random() < 0.7 else ""
        category = rng.choice(self.data.categories) if rng.random() < 0.5 else ""
        if (city, category) not in self.data.pages:  # nothing of that category in that city
            category = ""
        pages = self.data.pages.get((city, category), 1)
        page = 1 if pages == 1 or rng.random() < 0.6 else rng.randint(2, pages)
        query = {key: value for key, value in (("city", city), ("category", category)) if value}
        if page > 1:
            query["page"] = str(page)
        path = "/api/v1/organizations/" + (f"?{urlencode(query)}" if query else "")
        return self._get("list", path)

    def _detail(self) -> Prepared:
        return self._get("detail", f"/api/v1/organizations/{self.rng.choice(self.data.organizations)}/")

    def _slots(self) -> Prepared:
        bookable = self.rng.choice(self.data.bookables)
        day = self.today + timedelta(days=self.rng.randint(1, 14))
        query = urlencode({"date": day.isoformat(), "service": bookable.service})
        return self._get("slots", f"/api/v1/resources/{bookable.resource}/slots/?{query}")

    def _me(self) -> Prepared:
        return self._get("me", "/api/v1/me/", {"Authorization": self.rng.choice(self.auth)})

    def _book(self) -> Prepared:
        rng = self.rng
        per_day = (CLOSES - OPENS) * 60
        for _attempt in range(100):
            index = rng.randrange(len(self.data.bookables))
            bookable = self.data.bookables[index]
            # From the day after tomorrow (UTC): never in the past, whatever the city's zone.
            day, slot = rng.randint(2, SLOT_DAYS + 1), rng.randrange(per_day // bookable.minutes)
            if (index, day, slot) not in self.booked:
                self.booked.add((index, day, slot))
                break
        local = datetime.combine(self.today + timedelta(days=day), datetime.min.time(), self.zones[bookable.zone])
        starts_at = (local + timedelta(minutes=OPENS * 60 + slot * bookable.minutes)).astimezone(UTC)
        body = json.dumps(
            {"resource": bookable.resource, "service": bookable.service, "starts_at": starts_at.isoformat()}
        ).encode()
        headers = {"Authorization": rng.choice(self.auth), "Content-Type": "application/json"}
        return Prepared("book", http_request("POST", "/api/v1/bookings/", host=self.host, headers=headers, body=body))
