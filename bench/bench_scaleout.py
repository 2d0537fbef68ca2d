"""Scale-out: the mixed load through nginx against one web node, then two.

The local cluster of ``bench/cluster.py`` (production settings, Debian's nginx
in front, ``TRUSTED_PROXY_COUNT=1``, the default throttles) runs one web node,
then two, each a gunicorn master with the same workers and threads (the
configuration file's defaults, or ``BENCH_SCALEOUT_CONFIG`` such as
``gthread:2x4``), against the mixed-load data set of ``python -m bench mixed``.
No Celery worker or beat runs: the web tier is what is measured (booking
notices wait in the broker). The open-loop generator of ``bench/openloop.py``
sends the mixed requests to nginx from 1,000 loopback addresses (nginx passes
each as ``X-Forwarded-For``, so the per-address throttles see 1,000
visitors), and the capacity search of the mixed benchmark finds the highest
rate held at p99 ≤ 200 ms with no error for each size (the second size's
search starts at the first one's capacity). The CPU used by the
web nodes, nginx, PostgreSQL's backends, the generator and everything else
shows where the machine's cores went.

On one machine the two nodes share its cores (and PostgreSQL's, and the
client's): a second node adds capacity only while the first one leaves CPU
idle. The table says which it was.

``python -m bench scaleout`` (needs ``nginx``: ``apt-get install nginx-light``;
skipped with a note without it). Env: ``BENCH_SCALEOUT_CONFIG``,
``BENCH_SCALEOUT_NODES`` (default ``1,2``) and the ``BENCH_PG`` /
``BENCH_MIXED_*`` settings of the mixed benchmark.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

from bench import procstat
from bench.bench_mixed import (
    DB_NAME,
    P99_LIMIT_MS,
    PG,
    REDIS_URL,
    SOURCES,
    STEP_HEADER,
    STEP_RULE,
    TIMEOUT,
    Config,
    capacity,
    capacity_search,
    cores_cell,
    flush_redis,
    measure,
    orchestrator_environment,
    print_breakdown,
    print_capacity_row,
    print_per_request,
    print_problems,
    run_on_data,
    server_counters,
    step_row,
    wait_idle,
)
from bench.openloop import OpenLoop, loopback_sources, ms
from bench.support import run_child

NODES = [int(n) for n in os.environ.get("BENCH_SCALEOUT_NODES", "1,2").split(",") if n.strip()]
CONFIG = os.environ.get("BENCH_SCALEOUT_CONFIG", "")
START_PER_WORKER = float(os.environ.get("BENCH_MIXED_START", "40"))


def main() -> int:
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        print("Skipped: nginx is not installed (apt-get install nginx-light).")
        return 0
    return run_child("bench.bench_scaleout", orchestrator_environment())


class ProxyLog:
    """The web nodes' access lines, read like a bench_mixed Server's (by file offsets)."""

    def __init__(self, node):
        self.node = node

    def log_size(self) -> int:
        return self.node.log.stat().st_size

    def access_since(self, offset: int):
        from bench.bench_mixed import access_lines

        return access_lines(self.node.log, offset)


async def measure_nodes(count: int, config: Config, data, workload, start: float) -> tuple[list, float]:
    from bench import mixed_data
    from bench.cluster import Cluster

    flush_redis()
    cluster = Cluster(
        f"{PG}/{DB_NAME}",
        REDIS_URL,
        web_count=count,
        worker_count=0,
        anon_rate=120,  # the production default (API_THROTTLE_ANON)
        beat=False,
        web_env={**config.environment(), **mixed_data.server_environment()},
    )
    cluster.prepare()
    cluster.build()
    started = time.monotonic()
    try:
        cluster.start()
        nodes = cluster.web_nodes()
        nginx = cluster.node("nginx")
        client = OpenLoop("127.0.0.1", cluster.proxy_port, loopback_sources(SOURCES), timeout=TIMEOUT)
        workload.host = f"127.0.0.1:{cluster.proxy_port}"
        masters = [node.started.pid for node in nodes]
        meter = procstat.CpuMeter(
            server_pids=masters, database=DB_NAME, pg_url=PG, proxy_pids=[nginx.started.pid]
        )  # fmt: skip
        logs = [ProxyLog(node) for node in nodes]
        print(f"\n### {count} node{'s' if count > 1 else ''} × {config.label} behind nginx\n", flush=True)
        await measure(client, workload, meter, logs, start * 0.7, 4, seed=1)
        wait_idle(masters)
        print(STEP_HEADER + " nginx cores |")
        print(STEP_RULE + " ---: |", flush=True)
        steps = await capacity_search(
            client, workload, meter, logs, masters, start=start,
            report=lambda step: print(step_row(step) + f" {step.cpu.cores()['proxy']:.2f} |", flush=True),
        )  # fmt: skip
        meter.close()
        print_problems(steps)
        print_breakdown(steps)
        print_per_request(server_counters([node.port for node in nodes], cluster.token))
        print(f"\n{time.monotonic() - started:.0f} s for {count} node(s).")
        return steps, time.monotonic() - started
    finally:
        cluster.stop()


async def run_async(data) -> int:
    from bench.bench_soak import configured_defaults
    from bench.mixed_data import Workload

    config = Config.parse(CONFIG or configured_defaults()[0])
    workload = Workload(data, "127.0.0.1")
    results = {}
    start = START_PER_WORKER * config.workers * NODES[0]
    for count in NODES:
        results[count], _seconds = await measure_nodes(count, config, data, workload, start)
        # One machine: the next size starts where this one held (its cores are the same cores).
        best = capacity(results[count])
        start = best.rate if best else start
    print(f"\nScale-out through nginx, {config.label} per node: capacity at p99 ≤ {P99_LIMIT_MS:.0f} ms, 0 errors\n")
    print("| web nodes | gunicorn workers | capacity req/s | p99 ms there | cores: nodes / nginx / pg / client / other "
          "| machine busy |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    roles = ("server", "proxy", "postgres", "client", "other")
    for count, steps in results.items():
        print_capacity_row(
            f"{count} | {count * config.workers}",
            steps,
            lambda best: (
                f"{best.rate:.0f} | {ms(best.summary.p(0.99))} | {cores_cell(best, roles)} "
                f"| {best.cpu.cores()['machine']:.2f} of {os.cpu_count()}"
            ),
            columns=4,
        )
    return 0


def run() -> int:
    return run_on_data(run_async)


if __name__ == "__main__":
    if "--run" in sys.argv:
        sys.exit(run())
    sys.exit(main())
