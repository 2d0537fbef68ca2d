"""gunicorn settings for the web container (docker-compose.yml).

Each value can be overridden with the matching GUNICORN_* environment variable.

The defaults were chosen by measurement (`python -m bench mixed`, docs/performance.md,
"Mixed load and capacity per worker") for the reference machine class, 2 cores:

- **sync, 3 workers** (one per core, plus one). A request of the mix costs ~5 ms
  of Python on the CPU and waits on PostgreSQL and Redis besides. Per node, threads
  hold less: under the GIL two threads of one worker take turns, and each request
  waits for the other's Python (gthread 2 × 2 held 150–202 req/s, sync 3 180–248,
  sync 2 202–270). A single worker does better with 2 threads (135–143 against
  101–124 for one sync worker), because a thread runs while the other waits; with a
  worker per core the cores are busy during the waits anyway, and a third process
  keeps them busy while one worker waits or serves a slow request. On a bigger
  machine set GUNICORN_WORKERS to cores + 1. A sync worker is held by a slow
  client for as long as it sends or reads: keep a buffering proxy in front
  (nginx buffers bodies both ways by default; docs/operations.md, Scaling).
- **preload_app.** The application is imported once in the master and the workers
  are forked from it. A worker recycled by max_requests (or restarted after a crash)
  then serves again in milliseconds; without it the new worker spends ~1.5 s of CPU
  importing Django and the URLconf while its share of requests queues (a p99 spike).
  It also shares the code's memory between the workers, and that memory is frozen
  out of the garbage collector (gc.freeze()), so full collections stay short and
  leave the shared pages alone. The cost: HUP no longer reloads code (it re-forks
  the same one) — deploys replace the container anyway.
- **max_requests 20000.** A ten-minute soak kept the workers' memory flat, so
  recycling is only a safety net; every recycled worker also leaves its metric
  files behind (PROMETHEUS_MULTIPROC_DIR) until the container restarts.
"""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # the container port, behind the proxy
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# sync: one request at a time per worker; gthread: `threads` at a time (and keep-alive).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread" if threads > 1 else "sync")
# GUNICORN_PRELOAD=0: each worker imports the application itself (HUP then reloads code).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak never grows unbounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Django writes the access line itself (logger portal.access: method, path,
# status, time, view and request id, in LOG_FORMAT), so gunicorn's own is off.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")

if os.environ.get("LOG_FORMAT", "plain").lower() == "json":
    # gunicorn's own lines (boot, worker timeouts) as JSON objects too.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "portal.log_format.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }


def on_starting(server):
    """Before the workers start: forget the metric values of the previous run (PROMETHEUS_MULTIPROC_DIR)."""
    from portal.metrics import multiprocess_clear

    multiprocess_clear()


def when_ready(server):
    """The master is about to fork the workers. With the application preloaded, import the URLconf
    (every view, serializer and form) here too, so a new worker serves its first request warm; and
    hold no database connection, which every worker would inherit and share."""
    if preload_app:
        from django.db import connections
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018  (populates the resolver: imports the views)
        connections.close_all()
        # Everything imported so far lives as long as the process: move it out of the garbage
        # collector's reach. A full collection then walks what requests allocate, not the whole
        # application (it took ~55 ms, a p99 spike, on the lists that allocate the most), and it
        # no longer writes to the shared pages, which stay shared between the workers.
        gc.collect()
        gc.freeze()


def child_exit(server, worker):
    """A worker is gone (recycled, killed): drop its live gauges; its counters stay in the sum."""
    from portal.metrics import multiprocess_process_dead

    multiprocess_process_dead(worker.pid)
