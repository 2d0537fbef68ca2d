"""gunicorn settings for the web container (docker-compose.yml).

Each value can be overridden with the matching GUNICORN_* environment variable.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # the container port, behind the proxy
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# sync: one request at a time per worker; gthread: `threads` at a time (and keep-alive).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread" if threads > 1 else "sync")
# GUNICORN_PRELOAD=1: import the application once in the master and fork the workers from it.
preload_app = os.environ.get("GUNICORN_PRELOAD", "0") == "1"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak never grows unbounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
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


def child_exit(server, worker):
    """A worker is gone (recycled, killed): drop its live gauges; its counters stay in the sum."""
    from portal.metrics import multiprocess_process_dead

    multiprocess_process_dead(worker.pid)
