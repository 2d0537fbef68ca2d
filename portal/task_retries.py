"""Retrying tasks that honour a platform's ``retry_after`` (docs/architecture.md, "Retries").

What counts as transient is defined once, in ``portal.retries``. Tasks whose
failures carry a wait the other side asked for (the channels' rate limits) use
the ``RetryTransient`` base class below; the others use ``retry_policy``.
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

from celery import Task

from portal.retries import TransientError, is_transient

logger = logging.getLogger(__name__)

__all__ = ["RetryTransient", "TransientError", "is_transient", "retry_countdown"]


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
