"""Soak: the mixed load held for ten minutes at ~70 % of capacity — does anything creep?

gunicorn runs with the defaults of ``deploy/gunicorn.conf.py`` (only the bind
address is set) and production settings, against the mixed-load data set of
``python -m bench mixed`` (same database, same request mix, same open-loop
generator). Worker recycling (``max_requests``) is turned off unless
``BENCH_SOAK_MAX_REQUESTS`` says otherwise: recycling would hide the leak a
soak is there to find.

Every ``BENCH_SOAK_INTERVAL`` seconds (30) it samples the RSS of the gunicorn
master and of each worker, the PostgreSQL connections to the benchmark
database (``pg_stat_activity``), the Redis clients connected to the
benchmark's db (``CLIENT LIST``), and the latency p50/p99, errors, 409s and
429s of the requests scheduled in that interval. It prints a table over time
and a verdict: worker memory growth per minute (least-squares slope after the
first interval, which includes warming up), and whether the connection
counts stayed flat (the second half never above the first half's maximum).

``python -m bench soak`` (not part of a plain ``python -m bench``, which would
take ten minutes longer; ``BENCH_SOAK=1 make bench`` includes it). Env:
``BENCH_SOAK_SECONDS`` (600), ``BENCH_SOAK_RATE`` (requests/s; default 70 % of
the capacity ``python -m bench mixed`` last measured for the configuration
file's defaults, found by a short capacity search when there is none),
``BENCH_SOAK_INTERVAL`` (30), ``BENCH_SOAK_MAX_REQUESTS`` (0), and the
``BENCH_PG``/``BENCH_MIXED_*`` settings of the mixed benchmark.
"""

from __future__ import annotations

import asyncio
import json
import os
import runpy
import sys
from datetime import UTC, datetime

from bench import procstat
from bench.bench_mixed import (
    CAPACITY_FILE,
    DB_NAME,
    P99_LIMIT_MS,
    PG,
    REDIS_URL,
    SOURCES,
    TIMEOUT,
    Server,
    capacity,
    capacity_search,
    flush_redis,
    orchestrator_environment,
    run_on_data,
    server_environment,
    wait_idle,
)
from bench.openloop import OpenLoop, Summary, loopback_sources, ms
from bench.support import ROOT, run_child

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "600"))
RATE = os.environ.get("BENCH_SOAK_RATE", "")
INTERVAL = float(os.environ.get("BENCH_SOAK_INTERVAL", "30"))
MAX_REQUESTS = os.environ.get("BENCH_SOAK_MAX_REQUESTS", "0")
SHARE_OF_CAPACITY = 0.7
MB = 1024 * 1024


def main() -> int:
    return run_child("bench.bench_soak", orchestrator_environment())


def configured_defaults() -> tuple[str, int]:
    """The configuration file's own worker class, workers and threads, as a ``bench mixed`` spec, and workers."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("GUNICORN_")}
    try:
        conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    finally:
        os.environ.update(saved)
    workers, threads = conf["workers"], conf["threads"]
    spec = f"sync:{workers}" if conf["worker_class"] == "sync" else f"gthread:{workers}x{threads}"
    return spec, workers


def redis_clients(client) -> int:
    """Clients connected to the benchmark's Redis db, not counting this process's own connection."""
    db = client.connection_pool.connection_kwargs.get("db", 0)
    own = client.client_id()
    return sum(1 for c in client.client_list() if int(c.get("db", -1)) == db and int(c["id"]) != own)


def pg_connections(conn) -> int:
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    return conn.execute(query, [DB_NAME]).fetchone()[0]


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if not var:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / var * 60


async def soak(server: Server, client: OpenLoop, workload, rate: float) -> list[dict]:
    import psycopg
    import redis

    samples: list[dict] = []
    pg = psycopg.connect(f"{PG}/postgres", autocommit=True)
    broker = redis.Redis.from_url(REDIS_URL)
    loop = asyncio.get_running_loop()
    started = loop.time()

    def sample(t: float) -> dict:
        workers = sorted(server.workers())
        return {
            "t": t,
            "master_rss": procstat.rss_bytes(server.started.pid),
            "workers": {pid: procstat.rss_bytes(pid) for pid in workers},
            "pss": sum(procstat.pss_bytes(pid) for pid in [server.started.pid, *workers]),
            "pg": pg_connections(pg),
            "redis": redis_clients(broker),
        }

    async def sampler():
        n = 1
        while n * INTERVAL <= SECONDS + 0.001:
            await asyncio.sleep(max(0.0, started + n * INTERVAL - loop.time()))
            samples.append(sample(loop.time() - started))
            row = samples[-1]
            print(
                f"  {row['t']:5.0f} s: workers {', '.join(f'{v / MB:.0f}' for v in row['workers'].values())} MB, "
                f"PostgreSQL {row['pg']}, Redis {row['redis']}",
                flush=True,
            )
            n += 1

    samples.append(sample(0.0))
    sampling = asyncio.create_task(sampler())
    outcomes = await client.run(rate=rate, seconds=SECONDS, next_request=workload.next, seed=7)
    await sampling
    pg.close()
    # The outcomes of each interval, by scheduled time.
    for index, row in enumerate(samples[1:], start=1):
        low, high = started + samples[index - 1]["t"], started + row["t"]
        row["summary"] = Summary(rate, INTERVAL, [o for o in outcomes if low <= o.scheduled < high])
    return samples


def print_soak(samples: list[dict], rate: float, workers: int) -> int:
    print("\n| minute | requests | p50 ms | p99 ms | errors | 409 | 429 | master RSS MB | workers RSS MB "
          "| all PSS MB | PostgreSQL conns | Redis clients |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for row in samples[1:]:
        s: Summary = row["summary"]
        worker_mb = " / ".join(f"{v / MB:.0f}" for v in row["workers"].values())
        print(
            f"| {row['t'] / 60:.1f} | {s.sent} | {ms(s.p(0.5))} | {ms(s.p(0.99))} | {s.errors} | {s.conflicts} "
            f"| {s.throttled} | {row['master_rss'] / MB:.0f} | {worker_mb} | {row['pss'] / MB:.0f} | {row['pg']} "
            f"| {row['redis']} |"
        )
    steady = samples[2:]  # the first interval includes warming up (imports, caches, connections)
    if len(steady) < 2:
        print(f"\nToo short for a verdict: {len(steady)} interval(s) after the first; run two or more "
              "(BENCH_SOAK_SECONDS at least three times BENCH_SOAK_INTERVAL).")  # fmt: skip
        return 1
    pids = {pid for row in samples[1:] for pid in row["workers"]}
    growth = slope_per_minute([(row["t"], sum(row["workers"].values()) / MB) for row in steady])
    pss_growth = slope_per_minute([(row["t"], row["pss"] / MB) for row in steady])
    per_worker = growth / max(1, workers)
    half = len(steady) // 2
    first, second = steady[:half], steady[half:]

    def flat(key: str) -> bool:
        return bool(first) and max(row[key] for row in second) <= max(row[key] for row in first)

    errors = sum(row["summary"].errors for row in samples[1:])
    problems: dict[str, int] = {}
    for row in samples[1:]:
        for key, count in row["summary"].statuses().items():
            problems[key] = problems.get(key, 0) + count
    late = [row for row in samples[1:] if (row["summary"].p(0.99) or 0) > P99_LIMIT_MS]
    print()
    print(f"Rate {rate:.0f} req/s for {samples[-1]['t'] / 60:.1f} min; {len(pids)} worker processes seen.")
    print(
        f"Memory: workers together {growth:+.2f} MB/min ({per_worker:+.2f} MB/min per worker) after the first "
        f"interval; {'flat' if abs(per_worker) < 0.5 else 'GROWING' if per_worker > 0 else 'shrinking'} "
        f"(master and workers together, PSS: {pss_growth:+.2f} MB/min, {steady[-1]['pss'] / MB:.0f} MB at the end)."
    )
    print(f"PostgreSQL connections: {'stable' if flat('pg') else 'RISING'} "
          f"({min(r['pg'] for r in steady)}–{max(r['pg'] for r in steady)}); "
          f"Redis clients: {'stable' if flat('redis') else 'RISING'} "
          f"({min(r['redis'] for r in steady)}–{max(r['redis'] for r in steady)}).")  # fmt: skip
    print(f"Errors: {errors}; intervals with p99 above {P99_LIMIT_MS:.0f} ms: {len(late)} of {len(samples) - 1}.")
    if problems:
        print("Not successes: " + ", ".join(f"{key} × {n}" for key, n in sorted(problems.items())))
    return 0


async def run_async(data) -> int:
    from bench.mixed_data import Workload

    spec, workers = configured_defaults()
    flush_redis()
    env = server_environment(GUNICORN_MAX_REQUESTS=MAX_REQUESTS)
    server = Server("soak", env).start()
    client = OpenLoop("127.0.0.1", server.port, loopback_sources(SOURCES), timeout=TIMEOUT)
    workload = Workload(data, f"127.0.0.1:{server.port}")
    try:
        rate = float(RATE) if RATE else 0.0
        source = "BENCH_SOAK_RATE"
        if not rate:
            known = json.loads(CAPACITY_FILE.read_text()).get(spec, {}) if CAPACITY_FILE.exists() else {}
            if known.get("capacity"):
                rate, source = SHARE_OF_CAPACITY * known["capacity"], f"70 % of {known['capacity']:.0f} ({spec}, "
                source += f"measured {known['measured_at']})"
            else:
                print(f"No capacity measured for {spec}: a short capacity search first.", flush=True)
                meter = procstat.CpuMeter(server_pids=[server.started.pid], database=DB_NAME, pg_url=PG)
                steps = await capacity_search(
                    client, workload, meter, [server], [server.started.pid], start=40 * workers
                )  # fmt: skip
                meter.close()
                best = capacity(steps)
                rate = SHARE_OF_CAPACITY * (best.rate if best else 20)
                source = f"70 % of {best.rate if best else 20:.0f} measured just now ({spec})"
                wait_idle([server.started.pid])
        print(
            f"Soak: {spec} (the configuration file's defaults), max_requests {MAX_REQUESTS}, {rate:.0f} req/s "
            f"({source}), {SECONDS:.0f} s, a sample every {INTERVAL:.0f} s; load average "
            f"{procstat.load_average():.1f}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
            flush=True,
        )
        samples = await soak(server, client, workload, rate)
    finally:
        server.stop()
    return print_soak(samples, rate, workers)


def run() -> int:
    return run_on_data(run_async, note_start=False)


if __name__ == "__main__":
    if "--run" in sys.argv:
        sys.exit(run())
    sys.exit(main())
