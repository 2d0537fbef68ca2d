"""Optional error reporting to Sentry (``SENTRY_DSN``); every event is tagged with the request id.

The settings import this module and call :func:`sentry_init` only when
``SENTRY_DSN`` is set; without it sentry-sdk is not even imported. The Django and Celery integrations report
unhandled errors of requests and tasks; ``before_send`` adds the
``request_id`` tag (the id of the request, or of the request that enqueued the
task), so an event leads to the log lines of the same request. Personal data
(cookies, user details, request bodies) is not sent.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from portal.request_ids import request_id_get


def event_tag_request_id(event: dict, hint: dict) -> dict:
    """``before_send``: tag the event with the current request id, when there is one."""
    request_id = request_id_get()
    if request_id:
        tags = event.setdefault("tags", {})
        if isinstance(tags, dict):
            tags.setdefault("request_id", request_id)
        else:  # a list of [key, value] pairs is accepted by Sentry too
            tags.append(["request_id", request_id])
    return event


def sentry_init(*, dsn: str, environment: str = "", traces_sample_rate: float = 0.0, transport=None) -> None:
    """Start reporting to ``dsn``. ``transport`` replaces the HTTP transport (tests)."""
    options: dict[str, Any] = {
        "dsn": dsn,
        "environment": environment or None,
        "integrations": [DjangoIntegration(), CeleryIntegration()],
        "traces_sample_rate": traces_sample_rate,
        "send_default_pii": False,
        "max_request_body_size": "never",  # payment callbacks, profiles, uploads stay out of Sentry
        "before_send": event_tag_request_id,
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)
