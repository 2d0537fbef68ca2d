"""What a Celery task retries, and how: the one policy for every app's tasks.

A task retries only **transient** errors, the ones a second try a little later
can cure: the database refusing for a moment (lost connection, lock timeout,
deadlock or serialization failure: Django's ``OperationalError`` and
``InterfaceError``), the network (``requests``/``httpx`` connection errors and
timeouts, SMTP servers hanging up, sockets timing out or refusing), Redis and
the broker being unreachable. Anything else is a bug or a refusal of the data:
retrying would only repeat it (and re-run a whole batch), so the task fails
once and Celery logs it with its traceback.

Retries back off exponentially with jitter (1 s, 2 s, 4 s… capped at
``backoff_max``) and are bounded so that all the waiting of one run fits in the
task's own time limit: ``max_retries × backoff_max ≤ time_limit``.

    @shared_task(**retry_policy(time_limit=600))
    def renew_subscriptions(): ...
"""

import smtplib
import socket

import httpx
import kombu.exceptions
import redis.exceptions
import requests
from django.db import InterfaceError, OperationalError


class TransientError(Exception):
    """A failure worth trying again later; ``retry_after`` is the wait the other side asked for (a 429)."""

    def __init__(self, message: str = "", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    # a channel's "try again later" (rate limits, a platform's 5xx)
    TransientError,
    # the database: a lost connection, a lock or statement timeout, a deadlock, a serialization failure
    OperationalError,
    InterfaceError,
    # the network, whichever client spoke
    ConnectionError,  # refused, reset, aborted (the built-in family)
    TimeoutError,
    socket.gaierror,
    requests.ConnectionError,
    requests.Timeout,
    httpx.TransportError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    # Redis (cache, rate limits) and the broker
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)


def is_transient(exc: BaseException) -> bool:
    """Would trying again a little later likely succeed?"""
    return isinstance(exc, TRANSIENT_ERRORS)


def retry_policy(*, time_limit: int, max_retries: int = 3, backoff_max: int | None = None) -> dict:
    """Options for ``@shared_task``: late acks, time limits, and retries of transient errors only.

    ``time_limit`` (seconds) is the hard limit of one run; the soft limit is 90 %
    of it. The back-off is capped at ``backoff_max`` (default: the share of the
    time limit each retry may wait), so the retries of one run end within it.
    """
    if max_retries < 0 or time_limit <= 0:
        raise ValueError("max_retries must be >= 0 and time_limit > 0")
    if backoff_max is None:
        backoff_max = max(1, min(300, time_limit // max(max_retries, 1)))
    if max_retries * backoff_max > time_limit:
        raise ValueError(f"{max_retries} retries of up to {backoff_max}s do not fit in a {time_limit}s time limit")
    return {
        "acks_late": True,
        "time_limit": time_limit,
        "soft_time_limit": max(1, time_limit * 9 // 10),
        "autoretry_for": TRANSIENT_ERRORS if max_retries else (),
        "max_retries": max_retries,
        "retry_backoff": True,
        "retry_backoff_max": backoff_max,
        "retry_jitter": True,
    }
