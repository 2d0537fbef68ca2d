"""Catalog search benchmark (PostgreSQL).

1. Seeds 5,000 listed organizations with 20,000 services (4 each) and the demo
   categories in its own database ``citydesk_bench_search`` (reused on later
   runs), then fills the search columns with
   ``catalog.search.organization_search_refresh`` as any bulk writer must.
2. Latency of the catalog search, p50 and p95, for three kinds of queries:
   words (text search with Russian stemming, prefixes), typos (words the text
   search knows nowhere, matched by pg_trgm word similarity on the names of
   organizations, services and categories) and misspellings that find
   nothing (the "did you mean" suggestion on top). Measured on the list
   selector (count + first page of 20 with the card prefetches) and on
   ``GET /api/v1/organizations/?q=`` in process with the list cache off.
3. EXPLAIN ANALYZE of the search for a word and for a typo, keeping the plan
   lines that name an index or a scan, to show which indexes serve it.

Runs in a child process: ``python -m bench search``. Env: BENCH_PG (server URL
without database name, default postgres://postgres@127.0.0.1:5432),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/14), BENCH_ROUNDS (default 10),
BENCH_SEARCH_ORGS (default 5000), BENCH_SERVICES_PER_ORG (default 4).
"""

import os
import re
import statistics
import sys
import time

from bench.support import create_database, run_child

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "citydesk_bench_search"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
ORGS = int(os.environ.get("BENCH_SEARCH_ORGS", "5000"))
SERVICES_PER_ORG = int(os.environ.get("BENCH_SERVICES_PER_ORG", "4"))

QUERIES = {
    "words": ["стрижка", "СТРИЖКА", "коворкинг", "барбер", "маникюр", "ремонт стиральных машин", "массаж спины",
              "репетитор математика", "ёлка", "шиномонтаж"],
    "typos (trigram)": ["барбешоп", "маникур", "шиномантаж", "репититор", "фотостуия", "вителинар"],
    "nothing found + suggestion": ["кворкнг", "мнкюр", "стрижкка бородды"],
}  # fmt: skip
EXTRA_SERVICES = ["Консультация", "Срочный выезд", "Абонемент на месяц", "Подарочный сертификат", "Диагностика"]


def main() -> int:
    env = {
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": "citydesk-bench-search",
        "LOG_LEVEL": "ERROR",
        # The in-process API client is one address: anonymous throttling would answer 429.
        "API_THROTTLE_ANON": "100000000/min",
    }
    return run_child("bench.bench_search", env)


# --- inside the child process -----------------------------------------------------------------


def _seed() -> float:
    """Create the data set once (a re-run reuses it); returns the seconds spent."""
    import random
    from datetime import timedelta
    from decimal import Decimal

    from django.db import connection, transaction
    from django.utils import timezone

    from catalog import demo
    from catalog.models import Category, City, Organization, Service
    from catalog.search import organization_search_refresh
    from catalog.slugs import make_slug
    from portal.models import User

    start = time.perf_counter()
    if Organization.objects.visible().count() >= ORGS and Service.objects.count() >= ORGS * SERVICES_PER_ORG:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        return 0.0
    Organization.objects.all().delete()
    for slug, name, tz in demo.CITIES:
        City.objects.update_or_create(slug=slug, defaults={"name": name, "timezone": tz})
    categories: dict[str | None, Category] = {}
    for position, (slug, name, parent) in enumerate(demo.CATEGORIES):
        categories[slug], _ = Category.objects.update_or_create(
            slug=slug, defaults={"name": name, "parent": categories.get(parent), "position": position}
        )
    cities = list(City.objects.all())
    kinds = list(demo.KINDS.items())
    owners = [User.objects.get_or_create(email=f"bench-search-owner{i}@example.com")[0] for i in range(100)]
    rnd = random.Random(16)
    until = timezone.now() + timedelta(days=365)
    with transaction.atomic():
        organizations = []
        for i in range(ORGS):
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
                    phone=f"+7495{2000000 + i:07d}",
                    status=Organization.Status.PUBLISHED,
                    listed_until=until,
                    external_id=f"bench-search-{i}",
                )
            )
        organizations = Organization.objects.bulk_create(organizations, batch_size=1000)
        through = Organization.categories.through
        links, services = [], []
        for i, organization in enumerate(organizations):
            kind, (_names, _description, kind_services) = kinds[i % len(kinds)]
            category = categories[kind]
            links.append(through(organization_id=organization.pk, category_id=category.pk))
            if category.parent_id:
                links.append(through(organization_id=organization.pk, category_id=category.parent_id))
            names = [s[0] for s in kind_services] + EXTRA_SERVICES
            for n, service_name in enumerate(names[:SERVICES_PER_ORG]):
                price, minutes = (kind_services[n][1], kind_services[n][2]) if n < len(kind_services) else (500, 30)
                services.append(
                    Service(
                        organization=organization, name=service_name, price=Decimal(price), duration_minutes=minutes
                    )
                )
        through.objects.bulk_create(links, batch_size=5000)
        Service.objects.bulk_create(services, batch_size=5000)
    # bulk_create sends no signals: fill the search columns as every bulk writer must.
    organization_search_refresh(organization_ids=None)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - start


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def _selector_latency(queries: list[str], *, with_suggestion: bool) -> tuple[float, float, float]:
    from catalog import selectors

    timings, found = [], 0
    for round_no in range(ROUNDS):
        for q in queries:
            start = time.perf_counter()
            qs = selectors.organization_list(q=q)
            count = qs.count()
            page = list(qs[:20])
            if with_suggestion and not count:
                selectors.search_suggestion(q=q)
            timings.append((time.perf_counter() - start) * 1000)
            if round_no == 0:
                found += count
            assert count == 0 or page
    p50, p95 = _percentiles(timings)
    return p50, p95, found / len(queries)


def _baseline_latency(queries: list[str]) -> tuple[float, float]:
    """The search before typo tolerance (websearch_to_tsquery + ts_rank only), for comparison under the same load."""
    from django.contrib.postgres.search import SearchQuery, SearchRank
    from django.db.models import F

    from catalog import selectors
    from catalog.models import Organization

    timings = []
    for _round in range(ROUNDS):
        for q in queries:
            start = time.perf_counter()
            query = SearchQuery(q, config="russian", search_type="websearch")
            qs = selectors.with_cards(
                Organization.objects.visible()
                .filter(search_vector=query)
                .annotate(rank=SearchRank(F("search_vector"), query))
                .order_by("-rank", "name", "pk")
            )
            qs.count()
            list(qs[:20])
            timings.append((time.perf_counter() - start) * 1000)
    return _percentiles(timings)


def _api_latency(queries: list[str]) -> tuple[float, float]:
    from django.test import Client
    from django.test.utils import override_settings

    client = Client()
    timings = []
    with override_settings(CATALOG_LIST_CACHE_SECONDS=0, ALLOWED_HOSTS=["testserver"]):
        for _round in range(ROUNDS):
            for q in queries:
                start = time.perf_counter()
                response = client.get("/api/v1/organizations/", {"q": q})
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.status_code
    return _percentiles(timings)


INDEX_LINE = re.compile(r"Index|Seq Scan|Bitmap|Hash Join|SubPlan|Execution Time|Planning Time")


def _explain(q: str) -> list[str]:
    from catalog import selectors

    plan = selectors.organization_list(q=q)[:20].explain(analyze=True)
    return [line for line in plan.splitlines() if INDEX_LINE.search(line)]


def run() -> int:
    create_database(PG, DB_NAME)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    seed_seconds = _seed()
    from django.core.cache import cache

    from catalog.models import Organization, Service

    cache.clear()
    organizations = Organization.objects.visible().count()
    services = Service.objects.count()
    # Warm the connection, the vocabulary cache and PostgreSQL's buffers once.
    _selector_latency(["прогрев"], with_suggestion=True)

    print(
        f"Data: {organizations} listed organizations, {services} services (seeded in {seed_seconds:.1f} s; 0 = reused)"
    )
    print("Load average (1, 5, 15 min) at the start: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"{ROUNDS} rounds of each query; selector = count + first page of 20 with the card prefetches")
    print()
    print(f"{'queries':<30} {'n':>3} {'selector p50':>13} {'p95':>7} {'API p50':>9} {'p95':>7} {'matches':>8}")
    for kind, queries in QUERIES.items():
        suggestion = "suggestion" in kind
        p50, p95, found = _selector_latency(queries, with_suggestion=suggestion)
        api_p50, api_p95 = _api_latency(queries)
        print(
            f"{kind:<30} {len(queries):>3} {p50:>10.1f} ms {p95:>7.1f} {api_p50:>6.1f} ms {api_p95:>7.1f} {found:>8.0f}"
        )
    base_p50, base_p95 = _baseline_latency(QUERIES["words"])
    print(f"{'words, previous FTS-only search':<30} {len(QUERIES['words']):>3} {base_p50:>10.1f} ms {base_p95:>7.1f}")
    print("Load average at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print()
    for q in ("стрижка", "маникур"):
        print(f"EXPLAIN ANALYZE, q={q!r} (plan lines with indexes and scans):")
        for line in _explain(q):
            print(f"  {line}")
        print()
    cache.clear()
    return 0


if __name__ == "__main__":
    if "--run" in sys.argv:
        sys.exit(run())
    sys.exit(main())
