"""What every benchmark needs: a child process with its own settings, its own
database, free ports, servers started and stopped as a whole process group,
HTTP requests from many client addresses, and percentiles that say how many
samples they stand on."""

import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Production settings (DJANGO_DEBUG=0) refuse empty or demo secrets; a benchmark
# server run in production mode gets these stand-ins.
PRODUCTION_SECRETS = {
    "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
    "ROBOKASSA_LOGIN": "citydesk-bench",
    "ROBOKASSA_PASSWORD1": "bench-password-one",
    "ROBOKASSA_PASSWORD2": "bench-password-two",
}


def run_child(module: str, env: dict) -> int:
    """Run ``python -m <module> --run`` with ``env`` on top of this environment.

    Settings are read once at import, so each benchmark measures in a process
    of its own with the settings it needs.
    """
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **env}
    return subprocess.call([sys.executable, "-m", module, "--run"], cwd=ROOT, env=env)


def create_database(server_url: str, name: str) -> None:
    """Create database ``name`` on the PostgreSQL server unless it exists (data sets are reused)."""
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(*processes: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM each process group (started with ``start_new_session=True``), SIGKILL what lingers."""
    for proc in processes:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for proc in processes:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=timeout)


#: Fewest samples a p99 is printed from (below, the p99 is one of the two slowest requests: noise).
MIN_SAMPLES_P99 = 200
#: Fewest samples a p95 is printed from.
MIN_SAMPLES_P95 = 20


@dataclass(frozen=True)
class Percentiles:
    """Nearest-rank percentiles of ``n`` samples; a percentile is None when too few samples back it."""

    n: int
    p50: float
    p95: float | None
    p99: float | None


def percentiles(samples: list[float]) -> Percentiles:
    """p50, p95 and p99 of ``samples`` (nearest rank); p99 only from ``MIN_SAMPLES_P99`` samples or more."""
    ordered = sorted(samples)
    n = len(ordered)
    if not n:
        raise ValueError("no samples")

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * n) - 1)]

    return Percentiles(
        n=n,
        p50=rank(0.50),
        p95=rank(0.95) if n >= MIN_SAMPLES_P95 else None,
        p99=rank(0.99) if n >= MIN_SAMPLES_P99 else None,
    )


def fmt(value: float | None, digits: int = 1) -> str:
    """A figure for a table; "—" where too few samples back it."""
    return "—" if value is None else f"{value:.{digits}f}"


# --- HTTP clients from many addresses ------------------------------------------------------------


def source_addresses(block: int, count: int) -> list[str]:
    """``count`` loopback addresses ``127.<block>.x.y`` (Linux answers on all of 127.0.0.0/8).

    Each benchmark run takes a block of its own, so per-address throttle
    counters start from zero in every run and a real rate (120/min per
    anonymous address) is never reached by the load itself.
    """
    if not 1 <= block <= 255 or not 1 <= count <= 254 * 256:
        raise ValueError((block, count))
    return [f"127.{block}.{i // 254}.{i % 254 + 1}" for i in range(count)]


def http_request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | str | None = None,
    headers: dict | None = None,
    source: str | None = None,
    timeout: float = 60,
) -> tuple[int, bytes]:
    """One request on a new connection (from ``source`` when given); ``(status, body)``."""
    conn = HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class LoadRun:
    """What one timed run measured: answers by status, latencies (ms) of the 200s, wall time."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)

    @property
    def rps(self) -> float:
        """Answered 200s per second."""
        return self.ok / self.seconds


def drive(port: int, paths: list[str], *, seconds: float, clients: int, addresses: list[str]) -> LoadRun:
    """Send ``paths`` (in order, cycled) to the server for ``seconds`` from ``clients`` threads.

    Each thread sends its next request when the previous answer has arrived
    (a closed loop), on a new connection from the next address of
    ``addresses`` (threads interleave, so consecutive requests come from
    different addresses). Thread ``n`` starts at ``n / clients`` of the way
    through ``paths``. A connection error counts as status 0.
    """
    per_thread = [LoadRun() for _ in range(clients)]
    stop_at = time.perf_counter() + seconds

    def run(n: int) -> None:
        mine = per_thread[n]
        i = n * len(paths) // clients
        a = n
        while time.perf_counter() < stop_at:
            path, source = paths[i % len(paths)], addresses[a % len(addresses)]
            i += 1
            a += clients
            started = time.perf_counter()
            try:
                status, _body = http_request(port, "GET", path, headers={"Accept": "application/json"},
                                             source=source, timeout=30)  # fmt: skip
            except OSError:
                status = 0
            if status == 200:
                mine.latencies.append((time.perf_counter() - started) * 1000)
            mine.statuses[status] = mine.statuses.get(status, 0) + 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = LoadRun(seconds=time.perf_counter() - started)
    for part in per_thread:
        total.latencies += part.latencies
        for status, n in part.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + n
    return total


def start_gunicorn(
    app: str, env: dict, *, workers: int, ready_path: str, extra_args: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, int]:
    """Start ``gunicorn <app>`` on a free loopback port with ``env`` on top of this environment.

    Returns when ``ready_path`` answers 200 (within 60 s). Its own session, so
    ``stop`` ends the master and its workers together.
    """
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", *extra_args],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            if http_request(port, "GET", ready_path, headers={"Accept": "application/json"}, timeout=10)[0] == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"gunicorn {app} did not start")
