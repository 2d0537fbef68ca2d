"""Celery's side of observability: request ids, task metrics, logging and the worker's exporter.

Connected to Celery's signals when portal/celery.py loads (web, worker and beat alike):

- **request ids**: a task enqueued while a request id is bound carries it in
  the ``request_id`` message header (``before_task_publish``); the worker binds
  it around the task (``task_prerun``/``task_postrun``), so the task's log
  lines, the tasks it enqueues in turn and its Sentry events carry the id of
  the request that started it all. A task with none (beat's) uses its own
  task id. Eager tasks (the tests) run inside the request and keep its id.
- **metrics**: ``citydesk_celery_tasks_total{task,state}`` (succeeded, failed,
  retried, revoked; hard time limits and lost workers count as failed, from
  the worker's main process) and ``citydesk_celery_task_duration_seconds``.
- **logging**: Celery leaves the logging configuration to Django's ``LOGGING``
  (``setup_logging`` has a receiver), so worker and beat lines have the same
  format as the web's, request id included; ``LOG_LEVEL`` sets their level.
- **exporter**: with ``WORKER_METRICS_PORT`` set, the worker's main process
  serves ``/metrics`` on that port (the same ``METRICS_TOKEN``), adding up the
  pool processes through ``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery import signals
from django.conf import settings

from portal import metrics
from portal.request_ids import SANE_ID, request_id_bind, request_id_get, request_id_unbind

logger = logging.getLogger(__name__)

HEADER = "request_id"

# task id -> (context token, start time); a task runs in one thread from prerun to postrun.
_running: dict[str, tuple[object, float]] = {}


@signals.before_task_publish.connect(dispatch_uid="citydesk.request_id_publish")
def request_id_publish(sender=None, headers=None, **kwargs) -> None:
    request_id = request_id_get()
    if request_id and headers is not None:
        headers.setdefault(HEADER, request_id)


def _incoming_request_id(task, task_id: str) -> str:
    carried = getattr(task.request, HEADER, None) if task is not None else None
    if isinstance(carried, str) and SANE_ID.fullmatch(carried):
        return carried
    return request_id_get() or task_id


@signals.task_prerun.connect(dispatch_uid="citydesk.task_prerun")
def task_started(sender=None, task_id=None, task=None, **kwargs) -> None:
    token = request_id_bind(_incoming_request_id(task, task_id))
    _running[task_id] = (token, time.perf_counter())


@signals.task_postrun.connect(dispatch_uid="citydesk.task_postrun")
def task_finished(sender=None, task_id=None, task=None, **kwargs) -> None:
    token, started = _running.pop(task_id, (None, None))
    if started is not None and task is not None:
        metrics.celery_task_duration_seconds.labels(task.name).observe(time.perf_counter() - started)
    if token is not None:
        request_id_unbind(token)


def _task_name(sender, request=None) -> str:
    name = getattr(sender, "name", None) or getattr(request, "task", None) or getattr(request, "name", None)
    return str(name or "unknown")


@signals.task_success.connect(dispatch_uid="citydesk.task_success")
def task_succeeded(sender=None, **kwargs) -> None:
    metrics.celery_tasks_total.labels(_task_name(sender), "succeeded").inc()


@signals.task_failure.connect(dispatch_uid="citydesk.task_failure")
def task_failed(sender=None, **kwargs) -> None:
    metrics.celery_tasks_total.labels(_task_name(sender), "failed").inc()


@signals.task_retry.connect(dispatch_uid="citydesk.task_retry")
def task_retried(sender=None, request=None, **kwargs) -> None:
    metrics.celery_tasks_total.labels(_task_name(sender, request), "retried").inc()


@signals.task_revoked.connect(dispatch_uid="citydesk.task_revoked")
def task_revoked(sender=None, request=None, **kwargs) -> None:
    metrics.celery_tasks_total.labels(_task_name(sender, request), "revoked").inc()


@signals.setup_logging.connect(dispatch_uid="citydesk.setup_logging")
def logging_left_to_django(**kwargs) -> None:
    """Celery configures no logging of its own: Django's ``LOGGING`` (applied by django.setup()) holds."""


# --- The worker's exporter ----------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def metrics_app(environ, start_response):
    """WSGI: ``GET /metrics`` with ``Authorization: Bearer <METRICS_TOKEN>``; anything else is a 404."""
    authorized = metrics.metrics_token_matches(environ.get("HTTP_AUTHORIZATION", ""), settings.METRICS_TOKEN)
    if environ.get("PATH_INFO") != "/metrics" or environ.get("REQUEST_METHOD") != "GET" or not authorized:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    body, content_type = metrics.exposition(include_collectors=False)
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def exporter_start(*, port: int, address: str = "0.0.0.0") -> WSGIServer:  # noqa: S104 - inside the container
    """Serve :func:`metrics_app` on ``address:port`` from a daemon thread; returns the server."""
    server = make_server(address, port, metrics_app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True)
    thread.start()
    return server


@signals.worker_init.connect(dispatch_uid="citydesk.worker_init")
def worker_metrics_start(sender=None, **kwargs) -> None:
    metrics.multiprocess_clear()
    port = settings.WORKER_METRICS_PORT
    if port:
        server = exporter_start(port=port)
        logger.info("worker metrics on port %s", server.server_port)


@signals.worker_process_shutdown.connect(dispatch_uid="citydesk.worker_process_shutdown")
def worker_process_gone(pid=None, **kwargs) -> None:
    metrics.multiprocess_process_dead(pid or os.getpid())
