"""Catalog benchmark.

1. Seeds 10,000 listed organizations (2 categories and 2 services each, a
   photo on every third) in its own database ``citydesk_bench_catalog``.
2. Queries per request of the API list page at page sizes 10, 50 and 100 and
   of the HTML list page (must be constant: ≤ 5 and ≤ 8).
3. Russian full-text search over the 10,000 organizations: p50/p99 of the
   list selector (count + page + prefetches) for a set of Russian queries.
4. Throughput: ``GET /api/v1/organizations/`` (first page, 20 cards) served by
   gunicorn (2 sync workers, production settings) — the real app with its
   Redis cache, the real app with the cache off, and the raw psycopg WSGI
   baseline (bench/catalog_raw_wsgi.py, same SQL, same JSON, same gunicorn
   settings) — each driven for a fixed time by a bounded pool of client
   threads over loopback; requests/s, p50, p99 and the ratio to raw.

Runs in a child process: ``python -m bench catalog``. Env: BENCH_PG (server
URL without database name, default postgres://postgres@127.0.0.1:5432),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/12), BENCH_SECONDS (per run,
default 10), BENCH_CLIENTS (default 4), BENCH_ORGS (default 10000).
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection

from bench.support import PRODUCTION_SECRETS, ROOT, create_database, free_port, run_child, stop

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "citydesk_bench_catalog"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
ORGS = int(os.environ.get("BENCH_ORGS", "10000"))
WORKERS = 2
LIST_PATH = "/api/v1/organizations/"
SEARCH_QUERIES = ["стрижка", "барбершоп", "йога", "ремонт стиральных машин", "маникюр", "коворкинг",
                  "репетитор математика", "сантехник", "массаж спины", "фотостудия"]  # fmt: skip


def main() -> int:
    env = {
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": "citydesk-bench-catalog",
        "DJANGO_DEBUG": "1",
        "LOG_LEVEL": "ERROR",
    }
    return run_child("bench.bench_catalog", env)


# --- inside the child process -----------------------------------------------------------------


def _seed(count: int = ORGS) -> float:
    """Create the data set of ``count`` listed organizations once (a re-run reuses it); returns the
    seconds spent. The mixed-load benchmark seeds its catalog with it too."""
    import random
    from datetime import timedelta
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from catalog import demo
    from catalog.models import Category, City, Organization, OrganizationPhoto, Service
    from catalog.search import organization_search_refresh
    from catalog.slugs import make_slug
    from portal.models import User

    start = time.perf_counter()
    if Organization.objects.visible().count() >= count:
        from django.db import connection

        if Organization.objects.filter(search_name="").exists():  # a data set seeded before the search columns
            organization_search_refresh(organization_ids=None)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        return 0.0
    Organization.objects.all().delete()
    for slug, name, tz in demo.CITIES:
        City.objects.update_or_create(slug=slug, defaults={"name": name, "timezone": tz})
    parents = {}
    for position, (slug, name, parent) in enumerate(demo.CATEGORIES):
        parents[slug], _ = Category.objects.update_or_create(
            slug=slug, defaults={"name": name, "parent": parents.get(parent), "position": position}
        )
    cities = list(City.objects.all())
    kinds = list(demo.KINDS.items())
    owners = [User.objects.get_or_create(email=f"bench-owner{i}@example.com")[0] for i in range(100)]
    rnd = random.Random(7)
    until = timezone.now() + timedelta(days=365)
    with transaction.atomic():
        orgs = []
        for i in range(count):
            kind, (names, description, _services) = kinds[i % len(kinds)]
            name = f"{rnd.choice(names)} {demo.STREETS[i % len(demo.STREETS)].split()[-1]} №{i}"
            orgs.append(
                Organization(
                    owner=owners[i % len(owners)],
                    name=name,
                    slug=f"{make_slug(name)[:150]}-{i}",
                    city=cities[i % len(cities)],
                    description=description,
                    address=f"{rnd.choice(demo.STREETS)}, {rnd.randint(1, 150)}",
                    phone=f"+7495{1000000 + i:07d}",
                    status=Organization.Status.PUBLISHED,
                    listed_until=until,
                    external_id=f"bench-{i}",
                )
            )
        orgs = Organization.objects.bulk_create(orgs, batch_size=1000)
        through = Organization.categories.through
        links, services, photos = [], [], []
        for i, org in enumerate(orgs):
            kind, (_names, _description, kind_services) = kinds[i % len(kinds)]
            category = parents[kind]
            links.append(through(organization_id=org.pk, category_id=category.pk))
            if category.parent_id:
                links.append(through(organization_id=org.pk, category_id=category.parent_id))
            for service_name, price, minutes in kind_services[:2]:
                services.append(
                    Service(organization=org, name=service_name, price=Decimal(price), duration_minutes=minutes)
                )
            if i % 3 == 0:
                photos.append(OrganizationPhoto(organization=org, image=f"organizations/{org.pk}/cover.jpg"))
        through.objects.bulk_create(links, batch_size=5000)
        Service.objects.bulk_create(services, batch_size=5000)
        OrganizationPhoto.objects.bulk_create(photos, batch_size=5000)
    # bulk_create sends no signals: fill the search columns as every bulk writer must.
    organization_search_refresh(organization_ids=None)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - start


def _query_counts() -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    counts = {}
    client = Client()
    with override_settings(CATALOG_LIST_CACHE_SECONDS=0, ALLOWED_HOSTS=["testserver"]):
        for size in (10, 50, 100):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(LIST_PATH, {"page_size": size})
            assert response.status_code == 200, response.status_code
            counts[f"API list, page_size={size}"] = len(ctx.captured_queries)
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/catalog/", {"city": "moscow", "category": "beauty", "q": "стрижка"})
        assert response.status_code == 200, response.status_code
        counts["HTML list, filters + search (cold pickers)"] = len(ctx.captured_queries)
    return counts


def _search_latency() -> tuple[float, float, int]:
    from catalog import selectors

    timings = []
    found = 0
    for _round in range(5):
        for q in SEARCH_QUERIES:
            start = time.perf_counter()
            qs = selectors.organization_list(q=q)
            count = qs.count()
            page = list(qs[:20])
            timings.append((time.perf_counter() - start) * 1000)
            found += count if _round == 0 else 0
            assert count == 0 or page
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1], found // len(SEARCH_QUERIES)


def _start_gunicorn(app: str, extra_env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        **PRODUCTION_SECRETS,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        # The benchmark client is one address; anonymous requests count for both scopes.
        "API_THROTTLE_ANON": "100000000/min",
        "API_THROTTLE_USER": "100000000/min",
        **extra_env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if _get(port, LIST_PATH)[0] == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"gunicorn {app} did not start")


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _load(port: int, paths: list[str], seconds: float) -> dict:
    """Drive the server with CLIENTS threads for ``seconds``; each thread waits for its answer."""
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    errors = [0] * CLIENTS
    statuses: dict[int, int] = {}
    stop_at = time.perf_counter() + seconds

    def run(n: int) -> None:
        i = n
        while time.perf_counter() < stop_at:
            path = paths[i % len(paths)]
            i += 1
            start = time.perf_counter()
            try:
                status, _body = _get(port, path)
            except OSError:
                status = 0
            latencies[n].append(time.perf_counter() - start)
            if status != 200:
                errors[n] += 1
                statuses[status] = statuses.get(status, 0) + 1

    for path in paths[:3]:  # warm up workers, connections and the cache
        for _ in range(WORKERS * 2):
            _get(port, path)
    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for lst in latencies for x in lst)
    return {
        "requests": len(flat),
        "rps": len(flat) / elapsed,
        "p50": statistics.median(flat) * 1000,
        "p99": flat[max(0, int(len(flat) * 0.99) - 1)] * 1000,
        "errors": sum(errors),
        "statuses": statuses,
    }


def _same_json(django_port: int, raw_port: int) -> bool:
    a = json.loads(_get(django_port, LIST_PATH)[1].decode().replace(f":{django_port}/", ":PORT/"))
    b = json.loads(_get(raw_port, LIST_PATH)[1].decode().replace(f":{raw_port}/", ":PORT/"))
    return a == b


def run() -> int:
    create_database(PG, DB_NAME)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    seed_seconds = _seed()
    from catalog.models import Organization

    listed = Organization.objects.visible().count()
    counts = _query_counts()
    search_p50, search_p99, avg_found = _search_latency()
    from django.db import connections

    connections.close_all()
    from django.core.cache import cache

    cache.clear()

    results = {}
    proc, port = _start_gunicorn("portal.wsgi:application", {})
    raw, raw_port = _start_gunicorn("bench.catalog_raw_wsgi:application", {})
    try:
        same = _same_json(port, raw_port)
        results["raw psycopg WSGI"] = _load(raw_port, [LIST_PATH], SECONDS)
        results["Django API (Redis cache)"] = _load(port, [LIST_PATH], SECONDS)
    finally:
        stop(proc, raw)
    proc, port = _start_gunicorn("portal.wsgi:application", {"CATALOG_LIST_CACHE_SECONDS": "0"})
    try:
        results["Django API (cache off)"] = _load(port, [LIST_PATH], SECONDS)
        from urllib.parse import quote

        search_paths = [f"{LIST_PATH}?q={quote(q)}" for q in SEARCH_QUERIES]
        results["Django API search (cache off)"] = _load(port, search_paths, SECONDS / 2)
    finally:
        stop(proc)

    print(f"Data: {listed} listed organizations (seeded in {seed_seconds:.1f} s; 0 = reused)")
    print(f"Same JSON from the real API and the raw app: {'yes' if same else 'NO'}")
    print()
    print(f"{'queries per request':<46} {'queries':>7}")
    for name, n in counts.items():
        print(f"{name:<46} {n:>7}")
    print()
    print(f"Russian search over {listed} organizations, selector (count + page of 20):")
    print(f"  p50 {search_p50:.1f} ms, p99 {search_p99:.1f} ms (avg {avg_found} matches per query)")
    print()
    raw_rps = results["raw psycopg WSGI"]["rps"]
    print(f"GET {LIST_PATH} — gunicorn {WORKERS} sync workers, {CLIENTS} client threads, {SECONDS:.0f} s each")
    print(f"{'server':<32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6}")
    for name, r in results.items():
        # Search answers a different question than the raw list: no ratio for it.
        ratio = f"{r['rps'] / raw_rps:.2f}" if "search" not in name else "—"
        print(f"{name:<32} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['errors']:>7} {ratio:>6}")
        if r["statuses"]:
            print(f"  non-200 answers: {r['statuses']}")
    cache.clear()
    return 0


if __name__ == "__main__":
    if "--run" in sys.argv:
        sys.exit(run())
    sys.exit(main())
