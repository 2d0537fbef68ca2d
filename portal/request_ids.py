"""Request ids: one id per request, on its response, its log lines and the tasks it enqueues.

``RequestIdMiddleware`` (first in ``MIDDLEWARE``) keeps a sane incoming
``X-Request-ID`` (a proxy's, a client's) or makes a new one, binds it to a
context variable for the rest of the request, sends it back in the response's
``X-Request-ID`` and writes one access line (logger ``portal.access``); the id
stays bound until the response is closed (``request_finished``).

Every log record carries ``request_id`` (``-`` outside a request): the record
factory installed by :func:`log_records_carry_request_id` reads the context
variable, so any handler and formatter can use ``%(request_id)s``. Celery
tasks enqueued during the request carry the id in a message header and bind
it again on the worker (portal/celery_observability.py).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
#: Letters, digits and ``._:=+/-``, 1 to 128 characters: uuids, nginx's $request_id,
#: load balancers' trace ids. Anything else is replaced, so a client cannot put
#: newlines or markup into our logs.
SANE_ID = re.compile(r"[A-Za-z0-9._:=+/\-]{1,128}")
NO_ID = "-"

_request_id: ContextVar[str | None] = ContextVar("citydesk_request_id", default=None)

access_logger = logging.getLogger("portal.access")


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_clean(incoming: str | None) -> str:
    """``incoming`` when it is a sane id, a new one otherwise."""
    if incoming and SANE_ID.fullmatch(incoming):
        return incoming
    return request_id_new()


def request_id_get() -> str | None:
    """The id of the request (or task) this code runs for, or None."""
    return _request_id.get()


@contextmanager
def request_id_bound(value: str | None):
    """Run the block with ``value`` as the current request id."""
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


def request_id_bind(value: str | None):
    """Bind ``value``; returns the token for :func:`request_id_unbind`."""
    return _request_id.set(value)


def request_id_unbind(token) -> None:
    _request_id.reset(token)


class RequestIdMiddleware:
    """Bind the request id, answer with it, and log one access line per request."""

    # Probes and scrapes would drown the access log: they are logged at DEBUG.
    quiet_paths = ("/healthz", "/metrics")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_clean(request.META.get(META_KEY))
        request.request_id = request_id
        started = time.perf_counter()
        # Bound until the response is closed (request_finished, below), not just
        # until this middleware returns: Django logs 4xx/5xx answers ("Not Found:
        # /x") and gunicorn its own lines after the middleware chain is done.
        _request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        elapsed_ms = (time.perf_counter() - started) * 1000
        match = getattr(request, "resolver_match", None)
        level = logging.DEBUG if request.path in self.quiet_paths else logging.INFO
        if access_logger.isEnabledFor(level):
            access_logger.log(
                level,
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                elapsed_ms,
                extra={
                    "http_method": request.method,
                    "http_path": request.path,
                    "http_status": response.status_code,
                    "duration_ms": round(elapsed_ms, 1),
                    "view": match.view_name if match else "",
                },
            )
        return response


def request_id_forget(sender=None, **kwargs) -> None:
    """``request_finished`` receiver: the response is closed, the request's id no longer applies."""
    _request_id.set(None)


def log_records_carry_request_id() -> None:
    """Give every log record a ``request_id`` attribute (the current id, or ``-``). Idempotent."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "citydesk_request_id", False):
        return
    logging.setLogRecordFactory(_RecordFactory(previous))


class _RecordFactory:
    """A log record factory that adds ``request_id`` to the records of the one it wraps."""

    citydesk_request_id = True  # how log_records_carry_request_id recognises it

    def __init__(self, previous: Callable[..., logging.LogRecord]) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        record.request_id = _request_id.get() or NO_ID
        return record


class RequestIdFilter(logging.Filter):
    """For handlers: make sure a record has ``request_id`` (records made before the factory was installed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get() or NO_ID
        return True
