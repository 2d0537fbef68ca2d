"""Prometheus metrics: one module every app imports to count what happens.

Counters are incremented where the event happens (in the services, after
commit where a rollback would undo the event). Every process exports them:

- without ``PROMETHEUS_MULTIPROC_DIR`` (``make run``, the tests) the process's
  own registry is what ``/metrics`` shows;
- with it (gunicorn and Celery's prefork pool) each process writes its values
  to files in that folder and the scrape adds them up
  (prometheus_client's multiprocess mode). Each group of processes that is
  scraped on its own address has a folder of its own: the web container's
  gunicorn master and workers share one, a Celery worker's pool shares another
  (and exports it on ``WORKER_METRICS_PORT``, see portal/celery_observability.py).

Gauges that describe shared state (queue lengths, mailing progress) are not
stored: they are computed when Prometheus scrapes, by the collectors the apps
register with :func:`collector_register` (mailings registers its progress in
its ``AppConfig.ready()``, so portal imports no higher app).

Metric names are part of the contract (SPEC "Operations", the Grafana
dashboard and the alert rules in deploy/): change them together.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# prometheus_client picks multiprocess mode when the variable exists at import,
# even when empty; an empty value means "off" here.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
else:
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

import redis
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from kombu.transport.redis import PRIORITY_STEPS
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

__all__ = [
    "GaugeMetricFamily",
    "bookings_total",
    "celery_tasks_total",
    "collector_register",
    "count_after_commit",
    "messages_total",
    "payments_total",
]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0)

# --- HTTP (portal.metrics.MetricsMiddleware) -------------------------------------
http_requests_total = Counter(
    "citydesk_http_requests", "HTTP requests answered, by view, method and status.", ["view", "method", "status"]
)
http_request_duration_seconds = Histogram(
    "citydesk_http_request_duration_seconds",
    "Time from the request entering Django to the response leaving it, by view and method.",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
)

# --- Database (every query of the default and other aliases) ---------------------
db_queries_total = Counter("citydesk_db_queries", "SQL statements executed.", ["alias"])
db_query_duration_seconds = Histogram(
    "citydesk_db_query_duration_seconds", "Time of one SQL statement.", ["alias"], buckets=QUERY_BUCKETS
)
db_errors_total = Counter("citydesk_db_errors", "SQL statements that raised, by exception class.", ["alias", "error"])

# --- Cache (portal.metered_cache backends) ---------------------------------------
cache_requests_total = Counter(
    "citydesk_cache_requests",
    "Cache operations; reads are a hit or a miss, writes ok, any operation may be an error.",
    ["cache", "operation", "result"],
)
cache_request_duration_seconds = Histogram(
    "citydesk_cache_request_duration_seconds",
    "Time of one cache operation.",
    ["cache", "operation"],
    buckets=QUERY_BUCKETS,
)

# --- Business counters (SPEC "Operations": names and labels are fixed) ------------
bookings_total = Counter(
    "citydesk_bookings", "Booking attempts: created (committed) or conflict (the slot was taken).", ["result"]
)
payments_total = Counter(
    "citydesk_payments",
    "Robokassa result callbacks: paid (a payment credited, committed) or rejected (bad signature, amount, invoice).",
    ["status"],
)
messages_total = Counter(
    "citydesk_messages",
    "Messages to people (notifications and mailings), one per send attempt: sent, failed, or blocked "
    "(the recipient blocked the bot or left).",
    ["channel", "result"],
)
celery_tasks_total = Counter(
    "citydesk_celery_tasks", "Celery task outcomes: succeeded, failed, retried, revoked.", ["task", "state"]
)
celery_task_duration_seconds = Histogram(
    "citydesk_celery_task_duration_seconds", "Run time of a task, by task.", ["task"], buckets=TASK_BUCKETS
)


def count_after_commit(counter: Counter, amount: float = 1, /, using: str | None = None, **labels: str) -> None:
    """Increment ``counter`` once the current transaction commits (at once outside one).

    For events a rollback would undo: a booking created inside a transaction
    that later rolls back was never created.
    """
    child = counter.labels(**labels)
    transaction.on_commit(lambda: child.inc(amount), using=using)


# --- Scrape-time collectors ---------------------------------------------------------

MetricsCollect = Callable[[], Iterable[GaugeMetricFamily]]
_collectors: dict[str, MetricsCollect] = {}


def collector_register(name: str, collect: MetricsCollect) -> None:
    """Have ``collect()`` called on every scrape of ``/metrics`` (web only).

    ``collect`` returns metric families (``GaugeMetricFamily``) describing
    shared state, such as a mailing's progress. It should always return its
    families, empty when there is nothing to report, so the names exist for
    dashboards. A collector that raises is logged and skipped: the rest of the
    scrape still answers.
    """
    _collectors[name] = collect


class _ScrapeTimeCollector(Collector):
    def collect(self):
        for name, collect in list(_collectors.items()):
            try:
                yield from collect()
            except Exception:
                logger.warning("metrics collector %s failed", name, exc_info=True)


def celery_queue_lengths() -> Iterable[GaugeMetricFamily]:
    """``citydesk_celery_queue_length{queue}``: messages waiting in each queue of the Redis broker."""
    family = GaugeMetricFamily(
        "citydesk_celery_queue_length", "Messages waiting in a Celery queue (Redis broker only).", labels=["queue"]
    )
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        client = _broker_client(url)
        queues = ["celery", *([settings.MAILINGS_QUEUE] if settings.MAILINGS_QUEUE else [])]
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            # kombu keeps a queue's priorities in separate lists: "<queue>", "<queue>\x06\x16<n>".
            for key in _priority_keys(queue):
                pipe.llen(key)
        lengths = pipe.execute()
        steps = len(_priority_keys("x"))
        for index, queue in enumerate(queues):
            family.add_metric([queue], sum(lengths[index * steps : (index + 1) * steps]))
    yield family


def _priority_keys(queue: str) -> list[str]:
    return [queue, *(f"{queue}\x06\x16{step}" for step in PRIORITY_STEPS if step)]


_broker_clients: dict[str, object] = {}


def _broker_client(url: str):
    client = _broker_clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        _broker_clients[url] = client
    return client


collector_register("celery_queues", celery_queue_lengths)


# --- Exposition -----------------------------------------------------------------------


def multiprocess_dir() -> str:
    """The folder of the multiprocess mode, or "" when each process keeps its own values."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def multiprocess_clear() -> None:
    """Forget the values of processes that ran before this start (gunicorn's master, a Celery worker)."""
    folder = multiprocess_dir()
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    for path in Path(folder).glob("*.db"):
        path.unlink(missing_ok=True)


def multiprocess_process_dead(pid: int) -> None:
    """A process of the group is gone: drop its live gauges (its counters keep counting in the sum)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)


def registry_for_scrape(*, include_collectors: bool = True) -> CollectorRegistry:
    """The registry one scrape reads: this process's, or every process's of the multiprocess folder."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessRegistry())
    if include_collectors:
        registry.register(_ScrapeTimeCollector())
    return registry


class _ProcessRegistry(Collector):
    """The process's default registry, re-exposed (so the scrape-time collectors are added per scrape only)."""

    def collect(self):
        return REGISTRY.collect()


def exposition(*, include_collectors: bool = True) -> tuple[bytes, str]:
    """The Prometheus text exposition of this process group, and its content type."""
    return generate_latest(registry_for_scrape(include_collectors=include_collectors)), CONTENT_TYPE_LATEST


def metrics_token_matches(authorization: str, token: str) -> bool:
    """True when ``authorization`` is ``Bearer <token>`` and a token is configured."""
    if not token:
        return False
    scheme, _, credentials = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), token.encode())


# --- HTTP -------------------------------------------------------------------------------


def view_label(request) -> str:
    """The URL name of the view that answered (``api:booking-list``), bounded in number; "unresolved" for 404s."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unresolved"
    return match.view_name or "unnamed"


class MetricsMiddleware:
    """Count every response by view, method and status, and time it; answer Prometheus's scrape.

    ``GET /metrics`` with ``Authorization: Bearer <METRICS_TOKEN>`` is answered
    here, before the rest of the stack: Prometheus reaches each web node by its
    address (DNS service discovery), which is not one of ``ALLOWED_HOSTS``, and
    the scrape needs no session, CSRF or locale. Any other request for
    ``/metrics`` (no token configured, a wrong or missing one, another method)
    goes on like any request and gets the site's 404: the endpoint does not
    reveal that it exists.
    """

    path = "/metrics"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        if request.path == self.path and request.method == "GET" and self._authorized(request):
            response = self._scrape()
            view = "metrics"
        else:
            response = self.get_response(request)
            view = view_label(request)
        elapsed = time.perf_counter() - started
        method = request.method if request.method in _METHODS else "other"
        http_requests_total.labels(view, method, str(response.status_code)).inc()
        http_request_duration_seconds.labels(view, method).observe(elapsed)
        return response

    @staticmethod
    def _authorized(request) -> bool:
        return metrics_token_matches(request.headers.get("Authorization", ""), settings.METRICS_TOKEN)

    @staticmethod
    def _scrape():
        body, content_type = exposition()
        response = HttpResponse(body, content_type=content_type)
        response["Cache-Control"] = "no-store"
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


# --- Database -----------------------------------------------------------------------------


class _QueryObserver:
    """An ``execute_wrapper`` that counts and times the statements of one connection."""

    citydesk_metrics = True  # how database_instrument recognises it

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.queries = db_queries_total.labels(alias)
        self.duration = db_query_duration_seconds.labels(alias)

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        except Exception as exc:
            db_errors_total.labels(self.alias, exc.__class__.__name__).inc()
            raise
        finally:
            self.queries.inc()
            self.duration.observe(time.perf_counter() - started)


def database_instrument(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: time every statement of the connection.

    The observer goes first in ``execute_wrappers``, so Django's
    ``connection.execute_wrapper()`` context manager (which pops the last one)
    never removes it.
    """
    if not any(getattr(wrapper, "citydesk_metrics", False) for wrapper in connection.execute_wrappers):
        connection.execute_wrappers.insert(0, _QueryObserver(connection.alias))
