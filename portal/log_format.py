"""Log formats: ``LOG_FORMAT=plain`` (a line of text) or ``json`` (one JSON object per line).

Both carry the request id (portal/request_ids.py). The JSON object has
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``request_id``,
the task's ``task_name`` and ``task_id`` inside a Celery task, ``exc_info``
with the traceback when there is one, and every ``extra=`` field of the call
(the access line's ``http_method``, ``http_path``, ``http_status``,
``duration_ms``, ``view``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from celery import current_task

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

# The attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        task = _current_task()
        if task is not None:
            entry["task_name"], entry["task_id"] = task
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _current_task() -> tuple[str, str] | None:
    task = current_task._get_current_object() if current_task else None
    if task is None or not task.request or not task.request.id:
        return None
    return task.name, task.request.id


def logging_config(*, level: str, log_format: str) -> dict:
    """The ``LOGGING`` dict of the settings: one console handler in the chosen format."""
    if log_format not in {"plain", "json"}:
        raise ValueError("LOG_FORMAT must be plain or json")
    formatter = {"()": "portal.log_format.JsonFormatter"} if log_format == "json" else {"format": PLAIN_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "filters": {"request_id": {"()": "portal.request_ids.RequestIdFilter"}},
        # The level on the handler too: records from loggers with their own level
        # (Django's "django" logger is INFO) propagate here past the root's level.
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["request_id"],
                "level": level,
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
            "axes": {"level": "WARNING"},  # failures and lockouts; successes are in the security log
        },
    }
