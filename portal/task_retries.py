"""What a Celery task retries, and how long it waits (docs/architecture.md, "Retries").

Only a failure that can go away by itself is retried: the network, a rate
limit (429 with ``retry_after``), a database lock or connection that timed
out. Anything else is a bug or a refusal: retrying cannot fix it, so the task
fails once and Celery logs it with its traceback.

A task opts in with ``@shared_task(base=RetryTransient, max_retries=…,
retry_backoff=…, retry_backoff_max=…)``. The waits double from
``retry_backoff`` up to ``retry_backoff_max`` seconds, never shorter than a
``retry_after`` the platform asked for, so the whole retry window is bounded.
"""

import logging
import random

import redis.exceptions
from celery import Task
from django.db import OperationalError

logger = logging.getLogger(__name__)

# lock_not_available (lock_timeout), deadlock_detected, serialization_failure;
# class 08: the connection to the server failed.
TRANSIENT_SQLSTATES = frozenset({"55P03", "40P01", "40001"})


class TransientError(Exception):
    """A failure worth trying again later; ``retry_after`` is the wait the other side asked for."""

    def __init__(self, message: str = "", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def is_transient(exc: BaseException) -> bool:
    """True for the failures a retry can fix (see the module docstring)."""
    if isinstance(exc, TransientError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return True
    if isinstance(exc, OperationalError):
        sqlstate = getattr(exc.__cause__, "sqlstate", None) or ""
        return sqlstate in TRANSIENT_SQLSTATES or sqlstate.startswith("08")
    return False


def retry_countdown(*, retries: int, backoff: float, backoff_max: float, retry_after: float | None = None) -> float:
    """Seconds before retry number ``retries + 1``: doubling from ``backoff``, at most ``backoff_max``.

    A little jitter spreads retries of many tasks that failed together; a
    ``retry_after`` from the platform is honoured (still capped).
    """
    wait = min(backoff_max, backoff * 2**retries)
    wait = wait * random.uniform(0.8, 1.0)
    return min(backoff_max, max(wait, retry_after or 0.0))


class RetryTransient(Task):
    """Base class of tasks that retry transient errors only, with bounded backoff."""

    abstract = True
    max_retries = 5
    retry_backoff = 5
    retry_backoff_max = 300

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            if not is_transient(exc):
                raise
            countdown = retry_countdown(
                retries=self.request.retries,
                backoff=self.retry_backoff,
                backoff_max=self.retry_backoff_max,
                retry_after=getattr(exc, "retry_after", None),
            )
            logger.warning(
                "%s: transient failure (%s), retry %s of %s in %.0f s",
                self.name,
                exc,
                self.request.retries + 1,
                self.max_retries,
                countdown,
            )
            raise self.retry(exc=exc, countdown=countdown) from exc
