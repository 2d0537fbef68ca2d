"""Mixed load: the capacity of each gunicorn configuration under an open-loop mix of real requests.

For each configuration (worker class, workers, threads) the benchmark starts
gunicorn with ``deploy/gunicorn.conf.py`` and production settings
(``DJANGO_DEBUG=0``, ``LOG_FORMAT=json``, metrics in multiprocess mode, the
default throttles) on loopback, and drives it with the open-loop generator of
``bench/openloop.py``: Poisson arrivals at a target rate, latency from the
scheduled send time, 1,000 client addresses. The mix and the data set are
``bench/mixed_data.py``'s: catalog list 60 %, organization 15 %, free slots
15 %, ``/me/`` 5 % and booking creation 5 % (both as Mini App users signed
with the server's bot token).

All the configurations' servers are started at once (idle ones cost nothing)
and, after a warm-up each, their searches take steps of
``BENCH_MIXED_STEP_SECONDS`` in turns, so whatever else runs on the machine
is spread over all of them rather than charged to whichever ran at the time.
A search raises its rate by ``GROWTH`` per step until a step fails (p99 above
``BENCH_MIXED_P99_MS`` or any error), then bisects the gap between the last
rate held and the first one failed down to ``RESOLUTION``. A step that fails
while other processes used more than ``NOISY_CORES`` of the machine is taken
again once before it counts. The capacity is
the highest rate held. Errors are 5xx, timeouts, refused or cut connections,
requests the client dropped (too many in flight) and any 4xx other than 409
and 429; a 409 (``slot_taken``) and a 429 (throttled) are counted apart.
Percentiles are printed only from 200 samples or more.

Where the time goes: per step, the CPU used by the gunicorn processes, this
process (the load generator), the PostgreSQL backends of the benchmark's
database, Redis, and everything else on the machine (other work sharing it),
from /proc, and the CPU milliseconds one request cost the server and
PostgreSQL (steadier than latencies on a shared machine); per configuration,
the server's own time per view from its access lines (``duration_ms``) and,
from its ``/metrics``, the SQL statements and Redis cache operations per
request with the time they took.

Runs in a child process: ``python -m bench mixed``. It uses its own database
``citydesk_bench_mixed`` (seeded on the first run, ~1 minute) and Redis db 11
(flushed when it starts), and takes about 7–9 minutes for the seven default
configurations. Env:

- ``BENCH_PG`` server URL without database (default postgres://postgres@127.0.0.1:5432)
- ``BENCH_MIXED_REDIS_URL`` (default redis://127.0.0.1:6379/11)
- ``BENCH_MIXED_CONFIGS`` comma-separated ``sync:W`` / ``gthread:WxT`` (add ``:pool`` for the psycopg
  pool when the settings have ``DATABASE_POOL``), default
  ``sync:1,sync:2,sync:3,gthread:1x2,gthread:1x4,gthread:2x2,gthread:2x4`` (sync:3 is the configuration file's default)
- ``BENCH_MIXED_STEP_SECONDS`` (default 10), ``BENCH_MIXED_START`` (first rate per worker, default 40),
  ``BENCH_MIXED_P99_MS`` (200), ``BENCH_MIXED_TIMEOUT`` (seconds, 5), ``BENCH_MIXED_SOURCES`` (1000),
  ``BENCH_MIXED_ARRIVALS`` (``poisson`` or ``constant``), ``BENCH_MIXED_MAX_REQUESTS`` (the servers'
  ``GUNICORN_MAX_REQUESTS``; default: the config file's), ``BENCH_MIXED_PRELOAD`` (``GUNICORN_PRELOAD``),
  ``BENCH_MIXED_RATES`` (fixed rates in req/s, comma-separated, instead of the capacity search)
- and ``BENCH_MIXED_ORGS``, ``BENCH_MIXED_BOOKABLE``, ``BENCH_MIXED_USERS`` for the data set.

The capacities are written to ``var/bench/mixed-capacity.json`` for ``python -m bench soak``.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from bench import procstat
from bench.openloop import MIN_SAMPLES, OpenLoop, Summary, loopback_sources, ms, percentile
from bench.support import PRODUCTION_SECRETS, ROOT, create_database, free_port, run_child, stop

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "citydesk_bench_mixed"
REDIS_URL = os.environ.get("BENCH_MIXED_REDIS_URL", "redis://127.0.0.1:6379/11")
DEFAULT_CONFIGS = "sync:1,sync:2,sync:3,gthread:1x2,gthread:1x4,gthread:2x2,gthread:2x4"
CONFIGS = os.environ.get("BENCH_MIXED_CONFIGS", DEFAULT_CONFIGS)
STEP_SECONDS = float(os.environ.get("BENCH_MIXED_STEP_SECONDS", "10"))
START_PER_WORKER = float(os.environ.get("BENCH_MIXED_START", "40"))
P99_LIMIT_MS = float(os.environ.get("BENCH_MIXED_P99_MS", "200"))
TIMEOUT = float(os.environ.get("BENCH_MIXED_TIMEOUT", "5"))
SOURCES = int(os.environ.get("BENCH_MIXED_SOURCES", "1000"))
POISSON = os.environ.get("BENCH_MIXED_ARRIVALS", "poisson") != "constant"
MAX_REQUESTS = os.environ.get("BENCH_MIXED_MAX_REQUESTS", "")
PRELOAD = os.environ.get("BENCH_MIXED_PRELOAD", "")
# Fixed rates (req/s, comma-separated) instead of the capacity search.
RATES = [float(r) for r in os.environ.get("BENCH_MIXED_RATES", "").split(",") if r.strip()]
GROWTH = 1.5
RESOLUTION = 0.12  # stop bisecting when the gap is within 12 % of the rate held
MAX_STEPS = 9
# A step that fails while other work used more than this many cores is taken again once: on a
# shared machine a neighbour's burst should not decide the capacity.
NOISY_CORES = 0.25
# The search goes down at most to start / FLOOR: below it steps grow long (200 samples each) and
# the answer ("less than a quarter of the first guess") is already clear.
FLOOR = 4
WARMUP_SECONDS = 4
STATE = ROOT / "var" / "bench"
LIST_VIEW = "api:organization-list"
CAPACITY_FILE = STATE / "mixed-capacity.json"


def main() -> int:
    return run_child("bench.bench_mixed", orchestrator_environment())


def orchestrator_environment() -> dict[str, str]:
    """The benchmark process itself seeds and reads the database through Django (debug settings)."""
    return {
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": "citydesk-bench-mixed",
        "DJANGO_DEBUG": "1",
        "LOG_LEVEL": "ERROR",
    }


# --- configurations and servers ------------------------------------------------------------------


def pool_supported() -> bool:
    """Whether the settings offer a psycopg connection pool (``DATABASE_POOL``)."""
    return "DATABASE_POOL" in (ROOT / "portal" / "settings.py").read_text()


@dataclass(frozen=True)
class Config:
    spec: str
    worker_class: str
    workers: int
    threads: int
    pool: bool = False

    @classmethod
    def parse(cls, spec: str) -> Config:
        """``sync:2``, ``gthread:2x4`` or ``gthread:2x4:pool``."""
        parts = spec.strip().split(":")
        worker_class, size, pool = parts[0], parts[1], parts[2:] == ["pool"]
        workers, _x, threads = size.partition("x")
        if worker_class not in ("sync", "gthread") or (worker_class == "sync" and threads):
            raise ValueError(f"unknown configuration {spec!r}")
        return cls(spec.strip(), worker_class, int(workers), int(threads or 1), pool)

    def environment(self) -> dict[str, str]:
        env = {
            "GUNICORN_WORKER_CLASS": self.worker_class,
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
        }
        if self.pool:
            env["DATABASE_POOL"] = "1"
        return env

    @property
    def label(self) -> str:
        shape = f"{self.workers} × {self.threads}" if self.worker_class == "gthread" else f"{self.workers}"
        return f"{self.worker_class} {shape}{' + pool' if self.pool else ''}"


def server_environment(**extra: str) -> dict[str, str]:
    """Production settings for a benchmark server on loopback (the secrets are stand-ins)."""
    from bench import mixed_data

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_", "LOG_", "PROMETHEUS_"))}
    env = {
        **keep,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_DEBUG": "0",
        **PRODUCTION_SECRETS,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": "citydesk-bench-mixed",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "METRICS_TOKEN": secrets.token_urlsafe(24),
        **mixed_data.server_environment(),
    }
    if MAX_REQUESTS:
        env["GUNICORN_MAX_REQUESTS"] = MAX_REQUESTS
    if PRELOAD:
        env["GUNICORN_PRELOAD"] = PRELOAD
    env.update(extra)
    return env


def get(port: int, path: str) -> int:
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_healthy(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped while starting (exit {proc.returncode})")
        try:
            if get(port, "/healthz") == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing answers /healthz on :{port}")


@dataclass
class Server:
    """gunicorn with deploy/gunicorn.conf.py, its own session (stopped as a group), its log in a file."""

    name: str
    environment: dict[str, str]
    port: int = 0
    process: subprocess.Popen | None = None
    log: Path = field(default=Path())

    @property
    def started(self) -> subprocess.Popen:
        """The process (after start())."""
        if self.process is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self.process

    def start(self) -> Server:
        self.port = self.port or free_port()
        self.log = STATE / f"{self.name}.log"
        metrics = STATE / f"metrics-{self.name}"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        env = {**self.environment, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        argv = [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--config", "deploy/gunicorn.conf.py"]
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_healthy(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, timeout=30)

    def log_size(self) -> int:
        return self.log.stat().st_size

    def workers(self) -> list[int]:
        return procstat.children_of(self.started.pid)

    def access_since(self, offset: int) -> dict[str, list[float]]:
        """Server-side durations (ms) per view of the access lines written after ``offset``."""
        return access_lines(self.log, offset)


def access_lines(log: Path, offset: int) -> dict[str, list[float]]:
    views: dict[str, list[float]] = {}
    with open(log, "rb") as handle:
        handle.seek(offset)
        for line in handle:
            if b'"portal.access"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            views.setdefault(entry.get("view") or entry.get("http_path", "?"), []).append(entry["duration_ms"])
    return views


def server_counters(ports: list[int], token: str) -> dict[str, float]:
    """Totals from the servers' /metrics (summed over nodes): requests, SQL statements and cache
    operations with the time spent in each, and cache reads by result."""
    from prometheus_client.parser import text_string_to_metric_families

    totals: dict[str, float] = {}
    wanted = {
        "citydesk_http_requests_total": "requests",
        "citydesk_http_request_duration_seconds_sum": "django_seconds",
        "citydesk_db_queries_total": "sql",
        "citydesk_db_query_duration_seconds_sum": "sql_seconds",
        "citydesk_cache_requests_total": "cache",
        "citydesk_cache_request_duration_seconds_sum": "cache_seconds",
    }
    for port in ports:
        conn = HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/metrics", headers={"Host": "127.0.0.1", "Authorization": f"Bearer {token}"})
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in wanted:
                    totals[wanted[sample.name]] = totals.get(wanted[sample.name], 0.0) + sample.value
                if sample.name == "citydesk_cache_requests_total" and sample.labels.get("operation") == "set":
                    totals["cache_sets"] = totals.get("cache_sets", 0.0) + sample.value
                answer = (sample.labels.get("view"), sample.labels.get("method"), sample.labels.get("status"))
                if sample.name == "citydesk_http_requests_total" and answer == (LIST_VIEW, "GET", "200"):
                    totals["list_answers"] = totals.get("list_answers", 0.0) + sample.value
    return totals


def print_per_request(totals: dict[str, float]) -> None:
    """What one request costs on average, from the servers' own counters (the whole run, warm-up included)."""
    n = totals.get("requests", 0)
    if not n:
        return
    django_ms = totals.get("django_seconds", 0) / n * 1000
    sql, sql_ms = totals.get("sql", 0) / n, totals.get("sql_seconds", 0) / n * 1000
    cache, cache_ms = totals.get("cache", 0) / n, totals.get("cache_seconds", 0) / n * 1000
    # The list cache reads its entry and the catalog version in one MGET (always a "hit" on the version
    # key), so hits are counted from the other side: every list answer not from the cache stores one
    # entry, and in this mix nothing else stores anything (see print_per_request's caller).
    answers, stored = totals.get("list_answers", 0), totals.get("cache_sets", 0)
    hits = f"; the list cache answered {1 - stored / answers:.0%} of the catalog lists" if answers else ""
    print(
        f"\nPer request (the servers' /metrics over {n:.0f} requests): {django_ms:.1f} ms in Django, of which "
        f"{sql:.1f} SQL statements took {sql_ms:.1f} ms and {cache:.1f} Redis cache operations {cache_ms:.1f} ms{hits}."
    )


def wait_idle(pids: list[int], *, below: float = 0.15, seconds: float = 15) -> None:
    """Wait until the processes use less than ``below`` of a core (abandoned requests drained)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = sum(procstat.tree_cpu_seconds(pid) for pid in pids)
        time.sleep(0.5)
        if (sum(procstat.tree_cpu_seconds(pid) for pid in pids) - before) / 0.5 < below:
            return


# --- one step, and the capacity search ------------------------------------------------------------


@dataclass
class Step:
    summary: Summary
    cpu: procstat.CpuUse
    views: dict[str, list[float]]

    @property
    def rate(self) -> float:
        return self.summary.target


async def measure(client: OpenLoop, workload, meter: procstat.CpuMeter, logs: list[Any], rate: float,
                  seconds: float, *, seed: int) -> Step:  # fmt: skip
    """Drive the server at ``rate`` for ``seconds`` and collect latencies, CPU and server-side times."""
    offsets = [(server, server.log_size()) for server in logs]
    before = meter.read()
    outcomes = await client.run(rate=rate, seconds=seconds, next_request=workload.next, seed=seed, poisson=POISSON)
    cpu = meter.read() - before
    views: dict[str, list[float]] = {}
    for server, offset in offsets:
        for view, durations in server.access_since(offset).items():
            views.setdefault(view, []).extend(durations)
    return Step(Summary(rate, seconds, list(outcomes)), cpu, views)


class CapacitySearch:
    """Steps up from ``start`` (× GROWTH) to the first failure, then bisects down to RESOLUTION.

    ``rate`` is the next rate to try (None when the search is over); ``record`` takes its step."""

    def __init__(self, start: float, step_seconds: float = STEP_SECONDS):
        self.start = start
        self.step_seconds = step_seconds
        self.steps: list[Step] = []
        self.held: float | None = None
        self.failed: float | None = None
        self.rate: float | None = start
        self.retried: set[float] = set()

    @property
    def seconds(self) -> float:
        """Long enough for the 200 samples a p99 needs (with a margin for the Poisson draw)."""
        return max(self.step_seconds, 1.25 * MIN_SAMPLES / (self.rate or self.start))

    def record(self, step: Step) -> bool:
        """Take the step of ``rate``; False when it failed under noise and will be taken again."""
        self.steps.append(step)
        if self.rate is None:
            raise RuntimeError("the search is over")
        rate: float | None = self.rate
        taken = self.rate
        held = step.summary.held(P99_LIMIT_MS)
        if not held and step.cpu.cores()["other"] > NOISY_CORES and taken not in self.retried:
            self.retried.add(taken)
            if len(self.steps) < MAX_STEPS:
                return False
        if held:
            self.held = max(self.held or 0, taken)
        else:
            self.failed = min(self.failed or float("inf"), taken)
        if self.failed is None:
            rate = taken * GROWTH
        elif self.held is None:
            rate = taken / GROWTH
        elif (self.failed - self.held) / self.held <= RESOLUTION:
            rate = None
        else:
            rate = (self.held + self.failed) / 2
        if rate is not None and (len(self.steps) >= MAX_STEPS or rate < self.start / FLOOR * 0.99):
            rate = None
        self.rate = round(rate, 1) if rate is not None else None
        return True


async def capacity_search(client, workload, meter, logs, server_pids, *, start: float, report=None) -> list[Step]:
    """The capacity search of one server (or cluster); ``report(step)`` after each step (default:
    print its table row)."""
    report = report or (lambda step: print(step_row(step), flush=True))
    search = CapacitySearch(start)
    while search.rate is not None:
        step = await measure(client, workload, meter, logs, search.rate, search.seconds, seed=100 + len(search.steps))
        report(step)
        if not search.record(step):
            print(f"  (failed while other work used {step.cpu.cores()['other']:.2f} cores: taken again)", flush=True)
        wait_idle(server_pids)
    return search.steps


def capacity(steps: list[Step]) -> Step | None:
    held = [step for step in steps if step.summary.held(P99_LIMIT_MS)]
    return max(held, key=lambda step: step.rate) if held else None


# --- tables ------------------------------------------------------------------------------------------

STEP_HEADER = (
    "| target req/s | achieved | sent | p50 ms | p95 ms | p99 ms | errors | 409 | 429 "
    "| list p99 | detail p99 | slots p99 | me p99 | book p99 | client lag p99 "
    "| cores: server / pg / client / other | CPU ms per request: server / pg |"
)
STEP_RULE = "| " + " | ".join(["---:"] * 17) + " |"


def cpu_per_request(step: Step) -> tuple[float, float]:
    """CPU milliseconds per answered request of the server and of PostgreSQL: what a request costs,
    whatever else shares the machine (the latencies depend on that; this much less)."""
    answered = max(1, step.summary.answered)
    return step.cpu.server / answered * 1000, step.cpu.postgres / answered * 1000


def cpu_ceiling(step: Step, cpu_count: int) -> float:
    """The rate at which this machine's cores would all be busy with this work alone (server,
    PostgreSQL, Redis and the load generator): a ceiling, not a capacity — queues grow long before."""
    cpu = step.cpu
    per_request = (cpu.server + cpu.postgres + cpu.redis + cpu.client) / max(1, step.summary.answered)
    return cpu_count / per_request if per_request else 0.0


def cores_cell(step: Step, roles: tuple[str, ...] = ("server", "postgres", "client", "other")) -> str:
    """The cores each role used during ``step``, as "a / b / c" in ``roles``' order (a table cell)."""
    cores = step.cpu.cores()
    return " / ".join(f"{cores[role]:.2f}" for role in roles)


def step_row(step: Step) -> str:
    s = step.summary
    kinds = " | ".join(ms(s.kind_p99(kind)) for kind in ("list", "detail", "slots", "me", "book"))
    verdict = "" if s.held(P99_LIMIT_MS) else " ✗"
    return (
        f"| {s.target:.0f}{verdict} | {s.achieved:.0f} | {s.sent} | {ms(s.p(0.50))} | {ms(s.p(0.95))} "
        f"| {ms(s.p(0.99))} | {s.errors} | {s.conflicts} | {s.throttled} | {kinds} | {s.lag_p99:.1f} ms "
        f"| {cores_cell(step)} | {cpu_per_request(step)[0]:.1f} / {cpu_per_request(step)[1]:.1f} |"
    )


def print_problems(steps: list[Step]) -> None:
    problems: dict[str, int] = {}
    for step in steps:
        for key, count in step.summary.statuses().items():
            if "409" not in key:
                problems[key] = problems.get(key, 0) + count
    if problems:
        print("  not successes (all steps): " + ", ".join(f"{k} × {n}" for k, n in sorted(problems.items())))


def print_breakdown(steps: list[Step]) -> None:
    """Per kind of request, pooled over the steps held: client-side latency; and the server's time per view."""
    from bench.mixed_data import KINDS

    held = [step for step in steps if step.summary.held(P99_LIMIT_MS)]
    which = f"the {len(held)} steps held"
    if not held:
        held, which = steps, "all steps (none held)"
    print(f"\nPer kind, pooled over {which} (latency from the scheduled send):\n")
    print("| kind | requests | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: |")
    for kind in KINDS:
        values = sorted(v for step in held for v in step.summary.kind_latencies(kind))
        print(f"| {kind} | {len(values)} | {ms(percentile(values, 0.5))} | {ms(percentile(values, 0.99))} |")
    views: dict[str, list[float]] = {}
    for step in held:
        for view, durations in step.views.items():
            views.setdefault(view, []).extend(durations)
    total = sum(sum(d) for d in views.values()) or 1.0
    print("\nServer time per view (access lines, the same steps):\n")
    print("| view | requests | mean ms | share of server time |")
    print("| --- | ---: | ---: | ---: |")
    for view, durations in sorted(views.items(), key=lambda item: -sum(item[1])):
        print(f"| {view} | {len(durations)} | {sum(durations) / len(durations):.1f} | {sum(durations) / total:.0%} |")


def print_capacity_row(head: str, steps: list[Step], cells: Callable[[Step], str], *, columns: int) -> None:
    """One row of a capacity table: ``head``, then ``cells(best)`` of the highest rate held, or "none held"
    and dashes over the ``columns`` cells."""
    best = capacity(steps)
    rest = cells(best) if best is not None else " | ".join(["none held", *["—"] * (columns - 1)])
    print(f"| {head} | {rest} |")


def print_summary(results: dict[Config, list[Step]], cpu_count: int) -> None:
    print(f"\nCapacity: the highest rate held at p99 ≤ {P99_LIMIT_MS:.0f} ms with 0 errors\n")
    print(
        "| configuration | capacity req/s | per worker | p99 ms there | cores: server / pg / client / other "
        "| CPU ms per request: server / pg | CPU ceiling req/s |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for config, steps in results.items():

        def cells(best: Step, workers: int = config.workers) -> str:
            return (
                f"{best.rate:.0f} | {best.rate / workers:.0f} | {ms(best.summary.p(0.99))} | {cores_cell(best)} "
                f"| {cpu_per_request(best)[0]:.1f} / {cpu_per_request(best)[1]:.1f} "
                f"| {cpu_ceiling(best, cpu_count):.0f}"
            )

        print_capacity_row(config.label, steps, cells, columns=6)
    print(f"\n({cpu_count} cores; 'other' is every process that is not the server, PostgreSQL's backends of the")
    print("benchmark database, Redis or the load generator: on a shared machine, other people's work. The CPU")
    print("ceiling is the rate that would keep all cores busy with the server, PostgreSQL, Redis and the client")
    print("alone, from the CPU each request cost at capacity.)")


def save_capacities(results: dict[Config, list[Step]]) -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    data = {}
    if CAPACITY_FILE.exists():
        data = json.loads(CAPACITY_FILE.read_text())
    for config, steps in results.items():
        best = capacity(steps)
        data[config.spec] = {
            "capacity": best.rate if best else 0,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    CAPACITY_FILE.write_text(json.dumps(data, indent=2, sort_keys=True))


# --- the run -----------------------------------------------------------------------------------------


def prepare() -> tuple:
    """Database, data set, workload data (in this process, through Django)."""
    create_database(PG, DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    from bench import mixed_data

    call_command("migrate", verbosity=0)
    spent = mixed_data.seed()
    mixed_data.bookings_clear()
    data = mixed_data.workload_data()
    from django.db import connections

    connections.close_all()
    return data, spent


def describe_data(data, spent: dict) -> None:
    seeded = ", ".join(f"{part} {seconds:.0f} s" for part, seconds in spent.items())
    print(
        f"Data: {len(data.organizations)} listed organizations, {len(data.bookables)} bookable resources "
        f"({len({b.resource for b in data.bookables})} with slots), {data.users} Mini App users "
        f"(seeding: {seeded}; 0 = reused)"
    )


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


@dataclass
class Contender:
    """One configuration under test: its server, CPU meter and search."""

    config: Config
    server: Server
    meter: procstat.CpuMeter
    search: CapacitySearch


async def run_configs(configs: list[Config], data) -> dict[Config, list[Step]]:
    """Start a server per configuration, then take the steps of their searches in turns.

    Interleaving spreads whatever else runs on the machine over all the configurations
    instead of charging it to the ones measured while it ran."""
    from bench.mixed_data import Workload

    client = OpenLoop("127.0.0.1", 0, loopback_sources(SOURCES), timeout=TIMEOUT)
    workload = Workload(data, "127.0.0.1")  # one draw of slots for the whole run: no slot is asked twice
    flush_redis()
    contenders: list[Contender] = []
    try:
        for config in configs:
            server = Server(f"mixed-{config.spec.replace(':', '-')}", server_environment(**config.environment()))
            server.start()
            meter = procstat.CpuMeter(server_pids=[server.started.pid], database=DB_NAME, pg_url=PG)
            search = CapacitySearch(START_PER_WORKER * config.workers)
            contenders.append(Contender(config, server, meter, search))
        for n, c in enumerate(contenders):
            aim(client, workload, c.server)
            await measure(client, workload, c.meter, [c.server], c.search.start * 0.7, WARMUP_SECONDS, seed=n)
            wait_idle([c.server.started.pid])
        rounds = 0
        while any(c.search.rate is not None for c in contenders):
            rounds += 1
            for c in contenders:
                if c.search.rate is None or (RATES and len(c.search.steps) >= len(RATES)):
                    c.search.rate = None
                    continue
                rate = RATES[len(c.search.steps)] if RATES else c.search.rate
                seconds = STEP_SECONDS if RATES else c.search.seconds
                aim(client, workload, c.server)
                step = await measure(client, workload, c.meter, [c.server], rate, seconds, seed=100 * rounds)
                counted = True
                if RATES:
                    c.search.steps.append(step)
                else:
                    counted = c.search.record(step)
                verdict = "held" if step.summary.held(P99_LIMIT_MS) else "failed"
                if not counted:
                    verdict += f" while other work used {step.cpu.cores()['other']:.2f} cores: taken again"
                print(f"  round {rounds}, {c.config.label}: {rate:.0f} req/s, p99 {ms(step.summary.p(0.99))} ms, "
                      f"{step.summary.errors} errors → {verdict}", flush=True)  # fmt: skip
                wait_idle([c.server.started.pid])
        for c in contenders:
            print(f"\n### {c.config.label}  (workers {c.config.workers}, threads {c.config.threads})\n")
            print(STEP_HEADER)
            print(STEP_RULE)
            for step in c.search.steps:
                print(step_row(step))
            best = capacity(c.search.steps)
            print(f"\n{f'{best.rate:.0f} req/s held' if best else 'no rate held'}.")
            print_problems(c.search.steps)
            print_breakdown(c.search.steps)
            print_per_request(server_counters([c.server.port], c.server.environment["METRICS_TOKEN"]))
    finally:
        for c in contenders:
            c.meter.close()
            c.server.stop()
    return {c.config: c.search.steps for c in contenders}


def aim(client: OpenLoop, workload, server: Server) -> None:
    client.port = server.port
    workload.host = f"127.0.0.1:{server.port}"  # the Host header


def configs_to_run() -> list[Config]:
    configs = [Config.parse(spec) for spec in CONFIGS.split(",") if spec.strip()]
    if not pool_supported():
        skipped = [c.spec for c in configs if c.pool]
        if skipped:
            print(f"Skipped (no DATABASE_POOL in the settings): {', '.join(skipped)}")
        configs = [c for c in configs if not c.pool]
    return configs


def run_on_data(run_async: Callable[[Any], Coroutine[Any, Any, int]], *, note_start: bool = True) -> int:
    """Prepare the data set, run ``run_async(data)`` and print the load average around it
    (the soak and the scale-out benchmarks run this way)."""
    STATE.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    data, spent = prepare()
    describe_data(data, spent)
    if note_start:
        print(f"Load average {procstat.load_average():.1f} at the start, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.")
    result = asyncio.run(run_async(data))
    print(f"\nLoad average at the end {procstat.load_average():.1f}; {time.monotonic() - started:.0f} s in all.")
    return result


def run() -> int:
    started = time.monotonic()
    STATE.mkdir(parents=True, exist_ok=True)
    data, spent = prepare()
    describe_data(data, spent)
    configs = configs_to_run()
    print(
        f"Open loop ({'Poisson' if POISSON else 'constant-rate'} arrivals), {SOURCES} client addresses, "
        f"steps of {STEP_SECONDS:.0f} s, timeout {TIMEOUT:.0f} s, load average {procstat.load_average():.1f} "
        f"at the start, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC."
    )
    results = asyncio.run(run_configs(configs, data))
    print_summary(results, os.cpu_count() or 1)
    save_capacities(results)
    print(f"\nLoad average at the end {procstat.load_average():.1f}; {time.monotonic() - started:.0f} s in all.")
    return 0


if __name__ == "__main__":
    if "--run" in sys.argv:
        sys.exit(run())
    sys.exit(main())
