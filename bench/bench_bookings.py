"""Bookings benchmark.

1. Seeds, in its own database ``citydesk_bench_bookings``, one organization
   open round the clock with 1,000 resources and 200,000 bookings (200 per
   resource over ~50 days) with COPY; a re-run reuses the data set.
2. Availability: ``resource_list_with_availability`` for a random 2-hour
   window over all 1,000 resources (the whole list evaluated); and
   ``GET /api/v1/resources/?organization=&start=&end=&page_size=100`` served by
   gunicorn.
3. Slots: ``resource_free_slots`` for one resource and a random day;
   and ``GET /api/v1/resources/{id}/slots/?date=`` over HTTP.
4. Booking create without contention: sequential ``POST /api/v1/bookings/``
   (free slots, one user) over HTTP.
5. Contention: 50 users post the same slot at once against gunicorn
   (2 gthread workers × 25 threads): exactly one 201, 49 × 409, no 500, one row.

Every latency is p50/p95/p99 over ``BENCH_RUNS`` samples (default 200; a p99
needs 200). Anonymous HTTP reads come from many loopback addresses, so the
real throttle rates apply.

Runs in a child process: ``python -m bench bookings``. Env: BENCH_PG (server URL
without database name, default postgres://postgres@127.0.0.1:5432),
BENCH_BOOKINGS_REDIS_URL (default redis://127.0.0.1:6379/13), BENCH_RUNS
(samples per latency measure, default 200).
"""

import gc
import json
import os
import random
import subprocess
import sys
import threading
import time

from bench.support import (
    PRODUCTION_SECRETS,
    ROOT,
    create_database,
    fmt,
    free_port,
    http_request,
    percentiles,
    run_child,
    source_addresses,
    stop,
)

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "citydesk_bench_bookings"
REDIS_URL = os.environ.get("BENCH_BOOKINGS_REDIS_URL", "redis://127.0.0.1:6379/13")
RUNS = int(os.environ.get("BENCH_RUNS", "200"))
RESOURCES = 1000
PER_RESOURCE = 200
CONTENDERS = 50


def main() -> int:
    env = {
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "DJANGO_DEBUG": "0",
        **PRODUCTION_SECRETS,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "TRUSTED_PROXY_COUNT": "0",  # anonymous reads come from many loopback addresses (REMOTE_ADDR)
        "LOG_LEVEL": "ERROR",  # 49 expected 409s would each log a warning
    }
    return run_child("bench.bench_bookings", env)


# --- inside the child process -----------------------------------------------------------------


def _seed():
    """Create the data set once; returns (organization, seconds spent seeding)."""
    import io
    from datetime import UTC, datetime, timedelta
    from datetime import time as dtime

    from django.db import connection, transaction
    from django.utils import timezone

    from bookings.models import Booking, OpeningHours, Resource
    from catalog.models import City, Organization
    from portal.models import User

    started = time.perf_counter()
    owner, _ = User.objects.get_or_create(email="bench-owner@example.com")
    city, _ = City.objects.get_or_create(
        slug="novosibirsk", defaults={"name": "Новосибирск", "timezone": "Asia/Novosibirsk"}
    )
    organization, _ = Organization.objects.get_or_create(
        city=city,
        slug="bench-coworking",
        defaults={"owner": owner, "name": "Bench coworking", "status": Organization.Status.PUBLISHED},
    )
    Organization.objects.filter(pk=organization.pk).update(listed_until=timezone.now() + timedelta(days=3650))
    if Booking.objects.filter(resource__organization=organization).count() >= RESOURCES * PER_RESOURCE:
        return organization, 0.0
    with transaction.atomic():
        Booking.objects.filter(resource__organization=organization).delete()
        Resource.objects.filter(organization=organization).delete()
        OpeningHours.objects.filter(organization=organization).delete()
        OpeningHours.objects.bulk_create(
            [
                OpeningHours(organization=organization, weekday=d, opens_at=dtime(0), closes_at=dtime(0))
                for d in range(7)
            ]
        )
        Resource.objects.bulk_create(
            [Resource(organization=organization, name=f"Место {i:04d}", kind="seat") for i in range(RESOURCES)]
        )
    resource_ids = list(Resource.objects.filter(organization=organization).values_list("pk", flat=True))
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=5)
    rng = random.Random(7)
    buffer = io.StringIO()
    now = datetime.now(UTC).isoformat()
    # Time-major order, as bookings arrive in real life (the heap stays correlated with time).
    for n in range(PER_RESOURCE):
        for index, resource_id in enumerate(resource_ids):
            rng.seed(index * PER_RESOURCE + n)
            # One booking per 6-hour block, 1–3 hours long, shifted per resource: never overlapping.
            start = base + timedelta(hours=6 * n + index % 3)
            end = start + timedelta(hours=rng.choice((1, 2, 3)))
            status = "cancelled" if rng.random() < 0.1 else "confirmed"
            buffer.write(
                f"{resource_id}\t{owner.pk}\t{start.isoformat()}\t{end.isoformat()}\t{status}\t{now}\t"
                f"c{index}x{n}\t{now}\t{now}\t\t\n"  # no comment, no phone: empty strings
            )
    buffer.seek(0)
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY bookings_booking (resource_id, user_id, starts_at, ends_at, status, scheduled_at, checkin_code,"
            " created_at, updated_at, comment, phone) FROM STDIN"
        ) as copy,
    ):
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bookings_booking")
        cursor.execute("ANALYZE bookings_resource")
    return organization, time.perf_counter() - started


# Anonymous reads: each from the next of many client addresses, so the real anonymous throttle
# rate (120/min per address) applies without being reached by the benchmark itself.
_addresses = source_addresses(4, 1000)
_next_address = 0


def _request(port, method, path, body=None, headers=None):
    global _next_address
    source = None
    if not headers:
        source = _addresses[_next_address % len(_addresses)]
        _next_address += 1
    return http_request(port, method, path, body=body, headers=headers, source=source)


def _start_gunicorn() -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--workers", "2", "--threads", "25",
         "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if _request(port, "GET", "/healthz")[0] == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError("gunicorn did not start")


def _session_headers(user) -> dict:
    """Cookie + CSRF headers of a logged-in session (what a browser would send)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    csrf = "b" * 32
    return {
        "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


def run() -> int:
    import django

    create_database(PG, DB_NAME)
    django.setup()
    from datetime import UTC, datetime, timedelta

    import redis
    from django.core.management import call_command
    from django.db import connection

    from bookings import selectors
    from bookings.models import Booking, Resource
    from portal.models import User

    redis.Redis.from_url(REDIS_URL).flushdb()
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - t0
    organization, seed_s = _seed()
    resources = list(
        Resource.objects.filter(organization=organization).select_related("organization__city").order_by("pk")
    )
    # Forget the far-future bookings an earlier run's create/contention measures made.
    Booking.objects.filter(
        resource__organization=organization, starts_at__gte=datetime.now(UTC) + timedelta(days=300)
    ).delete()
    total = Booking.objects.filter(resource__organization=organization).count()
    rng = random.Random(11)
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = []
    # As a web worker runs (deploy/gunicorn.conf.py freezes the preloaded application): what the
    # process holds now is out of the garbage collector's reach, so a full collection walks only what
    # the measures allocate (otherwise one in ~15 availability lists paid ~55 ms for it).
    gc.collect()
    gc.freeze()

    # Availability (selector, all 1,000 resources).
    samples = []
    for _ in range(RUNS):
        start = base + timedelta(hours=rng.randrange(-100, 1000))
        t = time.perf_counter()
        listed = list(
            selectors.resource_list_with_availability(
                organization=organization, start=start, end=start + timedelta(hours=2)
            )
        )
        samples.append((time.perf_counter() - t) * 1000)
    assert len(listed) == RESOURCES
    rows.append(("availability, 2 h window, 1,000 resources (selector)", percentiles(samples), "≤ 20"))
    with connection.cursor() as cursor:
        qs = selectors.resource_list_with_availability(
            organization=organization, start=base, end=base + timedelta(hours=2)
        )
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    uses_gist = "booking_no_overlap" in plan

    # Slots (selector).
    samples = []
    for _ in range(RUNS):
        resource = rng.choice(resources)
        day = (base + timedelta(days=rng.randrange(0, 40))).date()
        t = time.perf_counter()
        selectors.resource_free_slots(resource=resource, day=day, duration_minutes=60)
        samples.append((time.perf_counter() - t) * 1000)
    rows.append(("free slots of a day (selector)", percentiles(samples), "≤ 15"))

    user, _ = User.objects.get_or_create(email="bench-client@example.com")

    # booking_create in process (the service: lock, rules, insert, notification row).
    from bookings import services

    samples = []
    for n in range(RUNS):
        start = base + timedelta(days=350, hours=2 * (n // RESOURCES))
        t = time.perf_counter()
        services.booking_create(user=user, resource=resources[n % RESOURCES], starts_at=start,
                                ends_at=start + timedelta(hours=1))  # fmt: skip
        samples.append((time.perf_counter() - t) * 1000)
    rows.append(("booking_create service (in process)", percentiles(samples), ""))
    contenders = []
    for n in range(CONTENDERS):
        contender, _ = User.objects.get_or_create(email=f"bench-contender-{n}@example.com")
        contenders.append(contender)
    headers = _session_headers(user)
    contender_headers = [_session_headers(c) for c in contenders]
    connection.close()

    proc, port = _start_gunicorn()
    try:
        # Warm both workers.
        for _ in range(10):
            _request(port, "GET", f"/api/v1/resources/{resources[0].pk}/slots/?date={base.date()}")
        samples = []
        for _ in range(RUNS):
            t = time.perf_counter()
            status, _body = _request(port, "GET", f"/api/v1/resources/{resources[0].pk}/")
            assert status == 200, status
            samples.append((time.perf_counter() - t) * 1000)
        rows.append(("GET /resources/{id}/ (HTTP floor: one-row API read)", percentiles(samples), ""))
        samples = []
        for _ in range(RUNS):
            start = base + timedelta(hours=rng.randrange(-100, 1000))
            path = (f"/api/v1/resources/?organization={organization.pk}&start={start.isoformat().replace('+', '%2B')}"
                    f"&end={(start + timedelta(hours=2)).isoformat().replace('+', '%2B')}&page_size=100")  # fmt: skip
            t = time.perf_counter()
            status, _body = _request(port, "GET", path)
            samples.append((time.perf_counter() - t) * 1000)
            assert status == 200, status
        rows.append(("GET /resources/?start&end (HTTP, page of 100)", percentiles(samples), ""))
        samples = []
        for _ in range(RUNS):
            resource = rng.choice(resources)
            day = (base + timedelta(days=rng.randrange(0, 40))).date()
            t = time.perf_counter()
            status, _body = _request(port, "GET", f"/api/v1/resources/{resource.pk}/slots/?date={day}")
            samples.append((time.perf_counter() - t) * 1000)
            assert status == 200, status
        rows.append(("GET /resources/{id}/slots/?date (HTTP)", percentiles(samples), ""))

        # Create without contention: far-future free slots, one after another.
        far = base + timedelta(days=400)
        samples = []
        statuses = []
        warmup = 50  # every gunicorn thread opens its database and broker connections once
        for n in range(warmup + RUNS):
            resource = resources[n % RESOURCES]
            start = far + timedelta(hours=2 * (n // RESOURCES))
            body = json.dumps({"resource": resource.pk, "starts_at": start.isoformat(),
                               "ends_at": (start + timedelta(hours=1)).isoformat()})  # fmt: skip
            t = time.perf_counter()
            status, _body = _request(port, "POST", "/api/v1/bookings/", body, headers)
            if n >= warmup:
                samples.append((time.perf_counter() - t) * 1000)
            statuses.append(status)
        assert set(statuses) == {201}, statuses
        rows.append(("POST /bookings/ without contention (HTTP)", percentiles(samples), "≤ 30"))

        # Contention: 50 users, one slot, all at once.
        target = resources[-1]
        start = far + timedelta(days=30)
        body = json.dumps({"resource": target.pk, "starts_at": start.isoformat(),
                           "ends_at": (start + timedelta(hours=1)).isoformat()})  # fmt: skip
        barrier = threading.Barrier(CONTENDERS)
        results: list[int] = []
        lock = threading.Lock()

        def attempt(h):
            barrier.wait(timeout=30)
            try:
                status, _ = _request(port, "POST", "/api/v1/bookings/", body, h)
            except OSError:
                status = -1
            with lock:
                results.append(status)

        threads = [threading.Thread(target=attempt, args=(h,)) for h in contender_headers]
        t = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        contention_ms = (time.perf_counter() - t) * 1000
    finally:
        stop(proc)
        redis.Redis.from_url(REDIS_URL).flushdb()
    created_rows = Booking.objects.filter(resource=target, starts_at=start).count()
    counts = {code: results.count(code) for code in sorted(set(results))}

    print(f"data: {RESOURCES} resources, {total} bookings; migrate {migrate_s:.1f} s, seed {seed_s:.1f} s")
    print(f"availability plan uses the exclusion constraint's GiST index: {uses_gist}")
    print(f"{'measure':58} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'samples':>8}  target")
    for name, result, target_text in rows:
        print(
            f"{name:58} {result.p50:8.2f} {fmt(result.p95, 2):>8} {fmt(result.p99, 2):>8} {result.n:>8}  {target_text}"
        )
    print("(nearest-rank percentiles; no p99 from fewer than 200 samples)")
    print(f"contention: {CONTENDERS} users, one slot → statuses {counts}, rows {created_rows}, {contention_ms:.0f} ms")
    ok = counts == {201: 1, 409: CONTENDERS - 1} and created_rows == 1
    print("contention check:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    if "--run" in sys.argv:
        sys.exit(run())
    sys.exit(main())
