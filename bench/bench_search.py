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
import sys
import time

from bench.catalog_data import seed_organizations
from bench.support import create_database, fmt, percentiles, run_child, source_addresses

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
EXTRA_SERVICES = ("Консультация", "Срочный выезд", "Абонемент на месяц", "Подарочный сертификат", "Диагностика")


def main() -> int:
    env = {
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": "citydesk-bench-search",
        "DJANGO_DEBUG": "1",  # in process, with the development settings (the test client's host)
        "LOG_LEVEL": "ERROR",
    }
    return run_child("bench.bench_search", env)


# --- inside the child process -----------------------------------------------------------------


def _seed() -> float:
    return seed_organizations(
        count=ORGS,
        owner_email="bench-search-owner{}@example.com",
        phone_base=2000000,
        external_prefix="bench-search-",
        random_seed=16,
        services_per_org=SERVICES_PER_ORG,
        extra_services=EXTRA_SERVICES,
    )


def _percentiles(samples: list[float]) -> tuple[float, float | None]:
    result = percentiles(samples)
    return result.p50, result.p95


def _selector_latency(queries: list[str], *, with_suggestion: bool) -> tuple[float, float | None, float]:
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


def _baseline_latency(queries: list[str]) -> tuple[float, float | None]:
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


def _api_latency(queries: list[str]) -> tuple[float, float | None]:
    from django.test import Client
    from django.test.utils import override_settings

    client = Client()
    timings = []
    # Each request from an address of its own: the real anonymous throttle rate applies, and is never reached.
    addresses = iter(source_addresses(3, ROUNDS * len(queries)))
    with override_settings(CATALOG_LIST_CACHE_SECONDS=0, ALLOWED_HOSTS=["testserver"]):
        for _round in range(ROUNDS):
            for q in queries:
                start = time.perf_counter()
                response = client.get("/api/v1/organizations/", {"q": q}, REMOTE_ADDR=next(addresses))
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
            f"{kind:<30} {len(queries):>3} {p50:>10.1f} ms {fmt(p95):>7} "
            f"{api_p50:>6.1f} ms {fmt(api_p95):>7} {found:>8.0f}"
        )
    base_p50, base_p95 = _baseline_latency(QUERIES["words"])
    print(f"{'words, previous FTS-only search':<30} {len(QUERIES['words']):>3} {base_p50:>10.1f} ms {fmt(base_p95):>7}")
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
