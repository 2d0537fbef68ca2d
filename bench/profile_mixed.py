"""Where a request of the mixed load spends its CPU: the mix of bench/bench_mixed.py run in one process.

``python -m bench.profile_mixed`` seeds (or reuses) the mixed-load database, starts Django with the
production settings a benchmark server gets, and sends the mix's requests straight to the WSGI
application, one after another (no server, no network): first ``PROFILE_WARMUP`` requests unmeasured,
then ``PROFILE_REQUESTS`` measured. It prints the CPU milliseconds per request of each kind (mean,
p50 and p90 over ≥ 200 samples where there are that many) and the mix's weighted mean, then, from
cProfile over the measured requests, the functions with the most time of their own and the most time
in all (``PROFILE_TOP`` lines each). ``PROFILE_KIND=detail`` (or list, slots, me, book) sends that kind
only; ``PROFILE_OFF=1`` measures without cProfile (cProfile roughly doubles the time of Python code);
``PROFILE_SQL=1`` prints the SQL statements of one request of each kind.

The server's CPU per request in the mixed-load benchmark is this figure plus the WSGI server and
the socket work; the figure is the floor a worker cannot go below without making Django do less.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time
from collections import defaultdict

from bench.support import run_child

REQUESTS = int(os.environ.get("PROFILE_REQUESTS", "3000"))
WARMUP = int(os.environ.get("PROFILE_WARMUP", "300"))
KIND = os.environ.get("PROFILE_KIND", "")
TOP = int(os.environ.get("PROFILE_TOP", "30"))
PROFILE = os.environ.get("PROFILE_OFF", "") != "1"
SHOW_SQL = os.environ.get("PROFILE_SQL", "") == "1"
SOURCES = 1000


def main() -> int:
    from bench import bench_mixed

    env = bench_mixed.server_environment()
    env["LOG_LEVEL"] = "WARNING"  # access lines cost CPU in production too, but their I/O here is a tty
    return run_child("bench.profile_mixed", env)


def environ_of(payload: bytes, address: str) -> dict:
    """A WSGI environ for the raw HTTP/1.1 request ``payload`` from the client ``address``."""
    head, _sep, body = payload.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _version = request_line.split(" ")
    path, _q, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": address,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for line in header_lines:
        name, _c, value = line.partition(":")
        key = name.strip().upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value.strip()
        else:
            environ[f"HTTP_{key}"] = value.strip()
    return environ


def show_sql(send, n: int) -> None:
    """The statements of one request of each kind (drawn until every kind came once)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench import mixed_data

    shown: set[str] = set()
    while len(shown) < (1 if KIND else len(mixed_data.KINDS)):
        with CaptureQueriesContext(connection) as queries:
            kind, _spent = send(n)
        n += 1
        if kind in shown:
            continue
        shown.add(kind)
        print(f"--- {kind}: {len(queries)} statements")
        for query in queries:
            print(f"  {query['sql'][:300]}")
    print()


def run() -> int:
    from bench import bench_mixed, mixed_data

    data, _spent = bench_mixed.prepare()
    bench_mixed.flush_redis()
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    workload = mixed_data.Workload(data, "127.0.0.1")
    addresses = [f"127.0.{n // 250}.{n % 250 + 1}" for n in range(SOURCES)]
    statuses: dict[tuple[str, str], int] = defaultdict(int)

    def draw():
        while True:
            prepared = workload.next()
            if not KIND or prepared.kind == KIND:
                return prepared

    def send(n: int) -> tuple[str, float]:
        prepared = draw()
        status = ""

        def start_response(line, headers, exc_info=None):
            nonlocal status
            status = line.split(" ", 1)[0]

        started = time.process_time()
        response = application(environ_of(prepared.payload, addresses[n % SOURCES]), start_response)
        for _chunk in response:
            pass
        response.close()
        spent = time.process_time() - started
        statuses[(prepared.kind, status)] += 1
        return prepared.kind, spent

    for n in range(WARMUP):
        send(n)
    if SHOW_SQL:
        show_sql(send, WARMUP)
    statuses.clear()
    spent: dict[str, list[float]] = defaultdict(list)
    profiler = cProfile.Profile() if PROFILE else None
    wall = time.perf_counter()
    if profiler:
        profiler.enable()
    for n in range(REQUESTS):
        kind, seconds = send(WARMUP + n)
        spent[kind].append(seconds * 1000)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - wall

    print(f"{REQUESTS} requests after {WARMUP} unmeasured, {'with' if profiler else 'without'} cProfile, "
          f"{REQUESTS / wall:.0f} req/s in one process, one after another\n")  # fmt: skip
    print("| kind | requests | statuses | CPU ms mean | p50 | p90 |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    shares = dict(mixed_data.MIX)
    weighted = 0.0
    for kind in mixed_data.KINDS:
        samples = sorted(spent.get(kind, []))
        if not samples:
            continue
        mean = sum(samples) / len(samples)
        weighted += mean * shares[kind]
        seen = ", ".join(f"{s} × {c}" for (k, s), c in sorted(statuses.items()) if k == kind)
        p50 = f"{samples[len(samples) // 2]:.2f}" if len(samples) >= 20 else "–"
        p90 = f"{samples[int(len(samples) * 0.9)]:.2f}" if len(samples) >= 200 else "–"
        print(f"| {kind} | {len(samples)} | {seen} | {mean:.2f} | {p50} | {p90} |")
    if not KIND:
        print(f"\nWeighted by the mix: {weighted:.2f} CPU ms per request ({1000 / weighted:.0f} req/s per busy core).")
    if profiler:
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(TOP)
            print(f"\n--- by {order} ---")
            print(out.getvalue().split("\n", 6)[-1] if order == "tottime" else out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(run() if "--run" in sys.argv else main())
