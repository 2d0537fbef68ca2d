"""Operational tasks of the project itself.

``ping`` is a health task: it proves that a message sent to the broker is
picked up and executed by a worker (``make run``'s worker, a production
worker). It touches no data; the worker's log shows ``ping <token>: pong``.

    python manage.py shell -c "from portal.tasks import ping; ping.delay('hello')"
"""

import logging

from celery import shared_task

from portal.retries import retry_policy

logger = logging.getLogger(__name__)


@shared_task(**retry_policy(time_limit=30, max_retries=0))
def ping(token: str = "") -> str:
    """Log and return ``pong <token>`` from whichever worker runs it."""
    token = str(token)[:64]
    logger.warning("ping %s: pong", token)
    return f"pong {token}"
