"""Retrying tasks that honour a platform's ``retry_after`` (docs/architecture.md, "Retries").

What counts as transient is defined once, in ``portal.retries``. Tasks whose
failures carry a wait the other side asked for (the channels' rate limits) use
the ``RetryTransient`` base class below; the others use ``retry_policy``.
Only a failure that can go away by itself is retried: the network, a rate
limit (429 with ``retry_after``), a database lock or connection that timed
out. Anything else is a bug or a refusal: retrying cannot fix it, so the task
fails once and Celery logs it with its traceback.

A task opts in with ``@shared_task(**retry_transient_policy(max_retries=…,
backoff=…, backoff_max=…, time_limit=…, soft_time_limit=…))`` (the base class,
late acks and the time limits in one set of options). The waits double from
``backoff`` up to ``backoff_max`` seconds, never shorter than a ``retry_after``
the platform asked for, so the whole retry window is bounded.
"""

import logging
import random

from celery import Task

from portal.retries import TransientError, is_transient

logger = logging.getLogger(__name__)

__all__ = ["RetryTransient", "TransientError", "is_transient", "retry_countdown", "retry_transient_policy"]


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


def retry_transient_policy(
    *, max_retries: int, backoff: int, backoff_max: int, time_limit: int, soft_time_limit: int
) -> dict:
    """Options for ``@shared_task``: a ``RetryTransient`` task with late acks and time limits.

    Up to ``max_retries`` retries of a transient failure, waiting from
    ``backoff`` up to ``backoff_max`` seconds (see ``retry_countdown``); one run
    is stopped after ``time_limit`` seconds, warned after ``soft_time_limit``.
    """
    return {
        "base": RetryTransient,
        "acks_late": True,
        "max_retries": max_retries,
        "retry_backoff": backoff,
        "retry_backoff_max": backoff_max,
        "time_limit": time_limit,
        "soft_time_limit": soft_time_limit,
    }
