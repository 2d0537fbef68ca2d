"""Catalog data for the benchmarks: the seeded organizations (bench_catalog,
bench_search) and the mix of list URLs people ask for (bench_catalog).

Call ``seed_organizations`` inside a benchmark's child process, after
``django.setup()`` and ``migrate``.
"""

import math
import random
import time
from urllib.parse import urlencode

LIST_PATH = "/api/v1/organizations/"


def seed_organizations(
    *,
    count: int,
    owner_email: str,
    phone_base: int,
    external_prefix: str,
    random_seed: int,
    services_per_org: int,
    extra_services: tuple[str, ...] = (),
    photo_every: int = 0,
) -> float:
    """Create ``count`` listed organizations once (a re-run reuses them); returns the seconds spent.

    The demo cities and categories; organizations of the demo kinds in turn
    (kind ``i % kinds``, city ``i % cities``), each in its kind's category and
    that category's parent, with the first ``services_per_org`` of its kind's
    services followed by ``extra_services`` (500 ₽, 30 min), a cover photo on
    every ``photo_every``-th (0: none), owned by 100 owners
    (``owner_email.format(i)``). Ends with the search columns filled and
    ``VACUUM ANALYZE``.
    """
    from datetime import timedelta
    from decimal import Decimal

    from django.db import connection, transaction
    from django.utils import timezone

    from catalog import demo
    from catalog.models import Category, City, Organization, OrganizationPhoto, Service
    from catalog.search import organization_search_refresh
    from catalog.slugs import make_slug
    from portal.models import User

    start = time.perf_counter()
    if Organization.objects.visible().count() >= count and Service.objects.count() >= count * services_per_org:
        if Organization.objects.filter(search_name="").exists():  # a data set seeded before the search columns
            organization_search_refresh(organization_ids=None)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        return 0.0
    Organization.objects.all().delete()
    for slug, name, tz in demo.CITIES:
        City.objects.update_or_create(slug=slug, defaults={"name": name, "timezone": tz})
    categories: dict[str, Category] = {}
    for position, (slug, name, parent) in enumerate(demo.CATEGORIES):
        categories[slug], _ = Category.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "parent": categories.get(parent) if parent else None, "position": position},
        )
    cities = list(City.objects.all())
    kinds = list(demo.KINDS.items())
    owners = [User.objects.get_or_create(email=owner_email.format(i))[0] for i in range(100)]
    rnd = random.Random(random_seed)
    until = timezone.now() + timedelta(days=365)
    with transaction.atomic():
        organizations = []
        for i in range(count):
            _kind, (names, description, _services) = kinds[i % len(kinds)]
            name = f"{rnd.choice(names)} {demo.STREETS[i % len(demo.STREETS)].split()[-1]} №{i}"
            organizations.append(
                Organization(
                    owner=owners[i % len(owners)],
                    name=name,
                    slug=f"{make_slug(name)[:150]}-{i}",
                    city=cities[i % len(cities)],
                    description=description,
                    address=f"{rnd.choice(demo.STREETS)}, {rnd.randint(1, 150)}",
                    phone=f"+7495{phone_base + i:07d}",
                    status=Organization.Status.PUBLISHED,
                    listed_until=until,
                    external_id=f"{external_prefix}{i}",
                )
            )
        organizations = Organization.objects.bulk_create(organizations, batch_size=1000)
        through = Organization.categories.through
        links, services, photos = [], [], []
        for i, organization in enumerate(organizations):
            kind, (_names, _description, kind_services) = kinds[i % len(kinds)]
            category = categories[kind]
            links.append(through(organization_id=organization.pk, category_id=category.pk))
            if category.parent_id:
                links.append(through(organization_id=organization.pk, category_id=category.parent_id))
            names = [s[0] for s in kind_services] + list(extra_services)
            for n, service_name in enumerate(names[:services_per_org]):
                price, minutes = (kind_services[n][1], kind_services[n][2]) if n < len(kind_services) else (500, 30)
                services.append(
                    Service(
                        organization=organization, name=service_name, price=Decimal(price), duration_minutes=minutes
                    )
                )
            if photo_every and i % photo_every == 0:
                photos.append(
                    OrganizationPhoto(organization=organization, image=f"organizations/{organization.pk}/cover.jpg")
                )
        through.objects.bulk_create(links, batch_size=5000)
        Service.objects.bulk_create(services, batch_size=5000)
        OrganizationPhoto.objects.bulk_create(photos, batch_size=5000)
    # bulk_create sends no signals: fill the search columns as every bulk writer must.
    organization_search_refresh(organization_ids=None)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - start


# --- the URL mix ---------------------------------------------------------------------------------

MIX_SEED = 2026
MIX_DISTINCT = 300
# What a list request asks for (weights in percent). City popularity follows demo.CITIES' order.
CITY_WEIGHTS = [35, 25, 12, 12, 10, 6]
FILTERS = [("none", 30), ("city", 25), ("category", 20), ("city+category", 25)]
ORDERINGS = [(None, 62), ("-rating", 14), ("price", 12), ("newest", 8), ("-price", 2), ("-name", 2)]
PAGE_SIZES = [(None, 90), (10, 4), (50, 4), (100, 2)]
FIRST_PAGE = 0.55  # share of page 1
NEXT_PAGE = 0.6  # from page 2 on, the chance to go one page further
DEEP_PAGE = 0.04  # a page anywhere (a link, a bookmark)


def _pick(rnd: random.Random, weighted: list[tuple]):
    return rnd.choices([value for value, _ in weighted], weights=[w for _, w in weighted])[0]


def url_mix(
    *, counts: dict[tuple[str | None, str | None], int], cities: list[str], categories: list[tuple[str, bool]]
) -> tuple[list[str], list[str]]:
    """The distinct list URLs of the benchmark and the request stream drawn over them.

    ``counts``: visible organizations per ``(city slug or None, category slug
    or None)``; ``cities``: city slugs, most popular first; ``categories``:
    ``(slug, is_parent)``. Requests are drawn with a fixed seed (the same mix
    on every run of the same data set) until ``MIX_DISTINCT`` distinct URLs
    have been drawn: the filter (none, a city, a category, both: only pairs
    that list something), the ordering, sometimes a page size, and a page
    (page 1 most often, then 2, 3… each less likely, now and then any page up
    to the last). The stream is every draw in order, so popular URLs (page 1
    of the whole catalog) repeat as they would in real traffic. Every URL
    answers 200. Returns ``(distinct URLs in first-drawn order, stream)``.
    """
    rnd = random.Random(MIX_SEED)
    city_weights = (CITY_WEIGHTS + [CITY_WEIGHTS[-1]] * len(cities))[: len(cities)]
    category_slugs = [slug for slug, _parent in categories]
    category_weights = [2 if parent else 1 for _slug, parent in categories]
    pairs = [(c, k) for c in cities for k in category_slugs if counts.get((c, k))]
    stream: list[str] = []
    distinct: dict[str, None] = {}
    while len(distinct) < MIX_DISTINCT:
        kind = _pick(rnd, FILTERS)
        city = category = None
        if kind == "city":
            city = rnd.choices(cities, weights=city_weights)[0]
        elif kind == "category":
            category = rnd.choices(category_slugs, weights=category_weights)[0]
        elif kind == "city+category":
            city, category = rnd.choice(pairs)
        ordering = _pick(rnd, ORDERINGS)
        page_size = _pick(rnd, PAGE_SIZES)
        last = max(1, math.ceil(counts[(city, category)] / (page_size or 20)))
        if rnd.random() < DEEP_PAGE:
            page = rnd.randint(1, last)
        elif rnd.random() < FIRST_PAGE:
            page = 1
        else:
            page = 2
            while rnd.random() < NEXT_PAGE:
                page += 1
            page = min(page, last)
        params = {"city": city, "category": category, "ordering": ordering, "page_size": page_size}
        params["page"] = page if page > 1 else None
        query = urlencode([(k, v) for k, v in params.items() if v is not None])
        url = LIST_PATH + (f"?{query}" if query else "")
        stream.append(url)
        distinct.setdefault(url)
    return list(distinct), stream


def mix_counts() -> tuple[dict[tuple[str | None, str | None], int], list[str], list[tuple[str, bool]]]:
    """What ``url_mix`` needs, read through the catalog's own selector (inside a child process)."""
    from catalog import demo, selectors
    from catalog.models import Category

    cities = [slug for slug, _name, _tz in demo.CITIES]
    categories = [(c.slug, c.parent_id is None) for c in Category.objects.order_by("position", "name")]
    counts = {}
    for city in [None, *cities]:
        for category in [None, *(slug for slug, _ in categories)]:
            counts[(city, category)] = selectors.organization_list(city=city, category=category).count()
    return counts, cities, categories
