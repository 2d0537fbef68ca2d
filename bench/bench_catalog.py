"""Catalog benchmark: the public list API against a raw WSGI baseline, like for like.

1. Seeds 10,000 listed organizations (2 categories and 2 services each, a
   photo on every third; bench/catalog_data.py) in its own database
   ``citydesk_bench_catalog``, reused on later runs.
2. Draws the URL mix: about 300 distinct ``GET /api/v1/organizations/?…``
   URLs (first and later pages, cities, categories, both, orderings, page
   sizes) and the request stream over them, from a fixed seed
   (``catalog_data.url_mix``).
3. Queries per request of the API list and of the HTML list page, and the
   latency of the Russian search selector (in process, 200 samples).
4. Starts three gunicorn servers with the same settings (2 sync workers,
   production settings, the real anonymous throttle rate): the raw psycopg
   WSGI app (bench/catalog_raw_wsgi.py), the real app with the list cache off
   (``CATALOG_LIST_CACHE_SECONDS=0``) and the real app with its Redis list
   cache (30 s). Checks that every URL of the mix gets the same bytes from
   all of them (the port normalised; the cached app twice: a miss, then a
   hit); any difference prints the first differing URL with a diff, and no
   ratio is printed.
5. Throughput: ``BENCH_ROUNDS`` rounds, each running the three servers one
   after the other (the order rotated every round) for ``BENCH_SECONDS``
   each, driven by ``BENCH_CLIENTS`` closed-loop client threads over the
   request stream, every request on a new connection from the next of
   ``BENCH_ADDRESSES`` loopback addresses (a fresh block of addresses per
   run, so throttle counters start at zero). Prints per server the median
   and range of req/s, the ratio to raw per round (median and range),
   p50/p95/p99 over the pooled 200-answers of all rounds (with their count;
   no p99 under 200 samples), non-200 answers (429s named), and the list
   cache's hit rate per run of the cached server, from its ``/metrics``.
6. Search (``?q=``, 10 Russian queries) on the uncached server, one run,
   reported apart: it answers a different question than the raw list.

Runs in a child process: ``python -m bench catalog``. Env: BENCH_PG (server
URL without database name, default postgres://postgres@127.0.0.1:5432),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/12, flushed), BENCH_SECONDS
(per run, default 8), BENCH_ROUNDS (default 3), BENCH_CLIENTS (default 4),
BENCH_ADDRESSES (client addresses per run, default 1000), BENCH_ORGS (default
10000).
"""

import difflib
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, quote, urlsplit

from bench.catalog_data import LIST_PATH, mix_counts, seed_organizations, url_mix
from bench.support import (
    PRODUCTION_SECRETS,
    LoadRun,
    create_database,
    drive,
    fmt,
    http_request,
    percentiles,
    run_child,
    source_addresses,
    start_gunicorn,
    stop,
)

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "citydesk_bench_catalog"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
ADDRESSES = int(os.environ.get("BENCH_ADDRESSES", "1000"))
ORGS = int(os.environ.get("BENCH_ORGS", "10000"))
WORKERS = 2
CACHE_SECONDS = 30
METRICS_TOKEN = "bench-metrics-token-0123456789abcdef"
SEARCH_QUERIES = ["стрижка", "барбершоп", "йога", "ремонт стиральных машин", "маникюр", "коворкинг",
                  "репетитор математика", "сантехник", "массаж спины", "фотостудия"]  # fmt: skip
SERVERS = {
    "raw": "raw psycopg WSGI",
    "uncached": "Django API, cache off",
    "cached": f"Django API, Redis cache {CACHE_SECONDS} s",
}
# Address blocks (127.<block>.x.y): 2 for the checks and scrapes, 10 and up one per timed run.
CHECK_BLOCK, FIRST_RUN_BLOCK = 2, 10


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
    """The data set of ``count`` listed organizations (the mixed-load benchmark seeds its catalog with it too)."""
    return seed_organizations(
        count=count,
        owner_email="bench-owner{}@example.com",
        phone_base=1000000,
        external_prefix="bench-",
        random_seed=7,
        services_per_org=2,
        photo_every=3,
    )


def _query_counts() -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    counts = {}
    client = Client()
    api: dict[str, dict[str, str | int]] = {f"page_size={size}": {"page_size": size} for size in (10, 50, 100)}
    api["city + category + ordering=price, page 2"] = {
        "city": "moscow", "category": "beauty", "ordering": "price", "page": 2,
    }  # fmt: skip
    with override_settings(CATALOG_LIST_CACHE_SECONDS=0, ALLOWED_HOSTS=["testserver"]):
        for name, params in api.items():
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(LIST_PATH, params)
            assert response.status_code == 200, response.status_code
            counts[f"API list, {name}"] = len(ctx.captured_queries)
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/catalog/", {"city": "moscow", "category": "beauty", "q": "стрижка"})
        assert response.status_code == 200, response.status_code
        counts["HTML list, filters + search (cold pickers)"] = len(ctx.captured_queries)
    return counts


def _search_latency():
    """The list selector with a search (count + page of 20 + prefetches), 200 samples."""
    from catalog import selectors

    timings = []
    found = 0
    for round_ in range(20):
        for q in SEARCH_QUERIES:
            start = time.perf_counter()
            qs = selectors.organization_list(q=q)
            count = qs.count()
            page = list(qs[:20])
            timings.append((time.perf_counter() - start) * 1000)
            found += count if round_ == 0 else 0
            assert count == 0 or page
    return percentiles(timings), found // len(SEARCH_QUERIES)


def _django_env(cache_seconds: int, metrics_dir: str) -> dict:
    return {
        "DJANGO_DEBUG": "0",
        **PRODUCTION_SECRETS,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "TRUSTED_PROXY_COUNT": "0",  # the client address is REMOTE_ADDR: one of the many loopback sources
        "CATALOG_LIST_CACHE_SECONDS": str(cache_seconds),
        # As in production (docker-compose.yml): /metrics behind a token, the workers' counters added up.
        "METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
    }


def _normalised(body: bytes, port: int) -> bytes:
    return body.replace(f"127.0.0.1:{port}/".encode(), b"127.0.0.1:PORT/")


def _diff(url: str, expected: bytes, got: bytes, label: str) -> str:
    def pretty(body: bytes) -> list[str]:
        try:
            return json.dumps(json.loads(body), ensure_ascii=False, indent=1).splitlines()
        except ValueError:
            return body.decode(errors="replace").splitlines()

    lines = list(difflib.unified_diff(pretty(expected), pretty(got), "raw", label, lineterm="", n=2))
    if not lines:  # equal as JSON, different as bytes (spacing, escaping, key order)
        at = next(i for i, (a, b) in enumerate(zip(expected + b"\0", got + b"\1", strict=False)) if a != b)
        lines = [f"first differing byte at {at}:", f"  raw:   {expected[max(0, at - 60) : at + 60]!r}",
                 f"  {label}: {got[max(0, at - 60) : at + 60]!r}"]  # fmt: skip
    return f"{url}\n" + "\n".join(lines[:60])


def _check_same(urls: list[str], ports: dict[str, int]) -> tuple[int, str]:
    """GET every URL from every server; ``(number of URLs whose answers differ, first difference)``."""
    addresses = source_addresses(CHECK_BLOCK, ADDRESSES)
    headers = {"Accept": "application/json"}

    def one(index: int) -> str | None:
        url, source = urls[index], addresses[index % len(addresses)]
        answers = {}
        for name in ("raw", "uncached", "cached", "cached, 2nd"):
            port = ports[name.split(",")[0]]
            status, body = http_request(port, "GET", url, headers=headers, source=source)
            answers[name] = (status, _normalised(body, port))
        status, expected = answers.pop("raw")
        if status != 200:
            return f"{url}\nraw answered {status}: {expected[:300]!r}"
        for name, (status, body) in answers.items():
            if status != 200 or body != expected:
                return _diff(url, expected, body, f"{name} ({status})")
        return None

    with ThreadPoolExecutor(CLIENTS) as pool:
        problems = [p for p in pool.map(one, range(len(urls))) if p]
    return len(problems), problems[0] if problems else ""


def _scrape(port: int) -> tuple[float, float]:
    """``(list cache writes, list answers 200)`` counted so far by the server (all its workers)."""
    from prometheus_client.parser import text_string_to_metric_families

    status, body = http_request(port, "GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                                source=source_addresses(CHECK_BLOCK, 1)[0])  # fmt: skip
    assert status == 200, status
    sets = answers = 0.0
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "citydesk_cache_requests_total" and labels.get("operation") == "set":
                sets += sample.value if labels.get("result") == "ok" else 0
            elif (
                sample.name == "citydesk_http_requests_total"
                and labels.get("view") == "api:organization-list"
                and labels.get("method") == "GET"
                and labels.get("status") == "200"
            ):
                answers += sample.value
    return sets, answers


def _spread(values: list[float], digits: int = 0) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def _describe_mix(urls: list[str], stream: list[str]) -> list[str]:
    params = {url: parse_qs(urlsplit(url).query) for url in urls}

    def share(predicate) -> str:
        return f"{100 * sum(1 for url in stream if predicate(params[url])) / len(stream):.0f} %"

    top = max(urls, key=stream.count)
    orderings = sorted({p["ordering"][0] for p in params.values() if "ordering" in p})
    return [
        f"URL mix: {len(urls)} distinct list URLs; a request stream of {len(stream)} drawn over them (fixed seed),",
        f"  of which page 1: {share(lambda p: 'page' not in p)}; city=: {share(lambda p: 'city' in p)}; "
        f"category=: {share(lambda p: 'category' in p)}; both: {share(lambda p: 'city' in p and 'category' in p)}; "
        f"ordering=: {share(lambda p: 'ordering' in p)} ({', '.join(orderings)}); "
        f"page_size=: {share(lambda p: 'page_size' in p)}",
        f"  most asked: {top} ({share(lambda p: p == params[top])}); "
        f"deepest page: {max(int(p.get('page', ['1'])[0]) for p in params.values())}",
    ]


def run() -> int:
    began = time.perf_counter()
    for name in ("API_THROTTLE_ANON", "API_THROTTLE_USER"):
        os.environ.pop(name, None)  # the real rates, whatever the calling shell says
    create_database(PG, DB_NAME)
    import django
    from django.core.management import call_command

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connections

    from catalog.models import Organization

    call_command("migrate", verbosity=0)
    seed_seconds = _seed()
    listed = Organization.objects.visible().count()
    mix_count, cities, categories = mix_counts()
    urls, stream = url_mix(counts=mix_count, cities=cities, categories=categories)
    counts = _query_counts()
    search_latency, avg_found = _search_latency()
    anon_rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"]
    connections.close_all()
    cache.clear()

    metrics = tempfile.TemporaryDirectory(prefix="citydesk-bench-metrics-")
    servers = {}
    try:
        servers["raw"] = start_gunicorn("bench.catalog_raw_wsgi:application", {}, workers=WORKERS, ready_path=LIST_PATH)
        for name, seconds in (("uncached", 0), ("cached", CACHE_SECONDS)):
            servers[name] = start_gunicorn(
                "portal.wsgi:application", _django_env(seconds, os.path.join(metrics.name, name)),
                workers=WORKERS, ready_path=LIST_PATH,
            )  # fmt: skip
        ports = {name: port for name, (_proc, port) in servers.items()}
        check_started = time.perf_counter()
        differing, first_difference = _check_same(urls, ports)
        check_seconds = time.perf_counter() - check_started

        runs: dict[str, list[LoadRun]] = {name: [] for name in SERVERS}
        # cores this process (the load client) used per run
        client_cpu: dict[str, list[float]] = {name: [] for name in SERVERS}
        hit_rates, uncached_sets = [], 0.0
        load_before = os.getloadavg()
        block = FIRST_RUN_BLOCK
        order = list(SERVERS)
        for round_ in range(ROUNDS):
            for name in order[round_ % len(order) :] + order[: round_ % len(order)]:
                port = ports[name]
                before = _scrape(port) if name != "raw" else None
                cpu = time.process_time()
                result = drive(port, stream, seconds=SECONDS, clients=CLIENTS,
                               addresses=source_addresses(block, ADDRESSES))  # fmt: skip
                block += 1
                client_cpu[name].append((time.process_time() - cpu) / result.seconds)
                runs[name].append(result)
                if before is not None:
                    sets, answers = (a - b for a, b in zip(_scrape(port), before, strict=True))
                    if name == "uncached":
                        uncached_sets += sets
                    else:
                        hit_rates.append((1 - sets / answers, int(answers - sets), int(sets)))
        search_paths = [f"{LIST_PATH}?q={quote(q)}" for q in SEARCH_QUERIES]
        search = drive(ports["uncached"], search_paths, seconds=SECONDS, clients=CLIENTS,
                       addresses=source_addresses(block, ADDRESSES))  # fmt: skip
        load_after = os.getloadavg()
    finally:
        stop(*(proc for proc, _port in servers.values()))
        metrics.cleanup()
        cache.clear()

    print(f"Data: {listed} listed organizations (seeded in {seed_seconds:.1f} s; 0 = reused)")
    for line in _describe_mix(urls, stream):
        print(line)
    same = differing == 0
    print(f"Same bytes (port normalised) from raw, Django cache off and Django cached (a miss, then a hit) for "
          f"every one of the {len(urls)} URLs: {'yes' if same else f'NO, {differing} URLs differ'} "
          f"(checked in {check_seconds:.0f} s)")  # fmt: skip
    if not same:
        print("First differing URL and diff (raw → Django):")
        print(first_difference)
    print()
    print(f"{'queries per request':<50} {'queries':>7}")
    for name, n in counts.items():
        print(f"{name:<50} {n:>7}")
    print()
    print(f"Russian search over {listed} organizations, list selector (count + page of 20), "
          f"{search_latency.n} samples: p50 {fmt(search_latency.p50)} ms, p95 {fmt(search_latency.p95)} ms, "
          f"p99 {fmt(search_latency.p99)} ms (avg {avg_found} matches per query)")  # fmt: skip
    print()
    print(f"GET {LIST_PATH} over the mix — gunicorn {WORKERS} sync workers per server, {CLIENTS} client threads "
          f"from {ADDRESSES} addresses per run (anonymous throttle {anon_rate} per address), {ROUNDS} rounds × "
          f"{SECONDS:g} s per server, order rotated each round")  # fmt: skip
    header = f"{'server':<30} {'req/s median (range)':>22} {'ratio to raw (range)':>21} {'p50':>6} {'p95':>6} "
    print(header + f"{'p99 ms':>7} {'samples':>8} {'non-200':>8}")
    raw_rps = [r.rps for r in runs["raw"]]
    errors = 0
    for name, label in SERVERS.items():
        rps = [r.rps for r in runs[name]]
        ratios = [a / b for a, b in zip(rps, raw_rps, strict=True)] if same else []
        lat = percentiles([x for r in runs[name] for x in r.latencies])
        bad = sum(r.errors for r in runs[name])
        errors += bad
        ratio = "1.00" if name == "raw" and same else _spread(ratios, 2)
        print(f"{label:<30} {_spread(rps):>22} {ratio:>21} {fmt(lat.p50):>6} {fmt(lat.p95):>6} {fmt(lat.p99):>7} "
              f"{lat.n:>8} {bad:>8}")  # fmt: skip
    if not same:
        print("(no ratio: the answers differ, see above)")
    lat = percentiles(search.latencies)
    print(f"{'Django API search ?q=, cache off':<30} {search.rps:>22.0f} {'—':>21} {fmt(lat.p50):>6} "
          f"{fmt(lat.p95):>6} {fmt(lat.p99):>7} {lat.n:>8} {search.errors:>8}")  # fmt: skip
    errors += search.errors
    print("(ratio: per round, Django req/s over raw req/s of the same round; percentiles: all 200-answers of all "
          "rounds pooled, nearest rank; no p99 under 200 samples)")  # fmt: skip
    if hit_rates:
        per_run = ", ".join(f"{100 * rate:.1f} % ({hits}/{hits + misses})" for rate, hits, misses in hit_rates)
        total_hits = sum(h for _, h, _ in hit_rates)
        total = sum(h + m for _, h, m in hit_rates)
        print(f"List cache hit rate of the cached server: {100 * total_hits / total:.1f} % overall; per run: {per_run}")
        print("  (from its /metrics: misses = list cache writes, citydesk_cache_requests_total{operation=\"set\"}; "
              "answers = citydesk_http_requests_total{view=\"api:organization-list\",status=\"200\"}; "
              f"cache writes by the uncached server over its runs: {uncached_sets:.0f})")  # fmt: skip
    statuses: dict[int, int] = {}
    for result in [*(r for name in runs for r in runs[name]), search]:
        for status, n in result.statuses.items():
            if status != 200:
                statuses[status] = statuses.get(status, 0) + n
    print(
        f"Non-200 answers: {statuses or 'none'}" + (f" — {statuses[429]} × 429 (throttled)" if 429 in statuses else "")
    )
    print("Load client (this process, on the same cores) used per run: " + "; ".join(
        f"{SERVERS[name]} {_spread(cpu, 2)} cores" for name, cpu in client_cpu.items()))  # fmt: skip
    print(f"Load average (1, 5, 15 min) before the timed runs: {', '.join(f'{x:.1f}' for x in load_before)}; "
          f"after: {', '.join(f'{x:.1f}' for x in load_after)}")  # fmt: skip
    print(f"Bench time: {time.perf_counter() - began:.0f} s")
    return 0 if same and not errors and not uncached_sets else 1


if __name__ == "__main__":
    if "--run" in sys.argv:
        sys.exit(run())
    sys.exit(main())
