"""The Redis broker's visibility timeout outlasts every task, so acks_late never runs a task twice at once.

With ``acks_late`` a message is acknowledged when its task finishes; Redis hands
a message that stays unacknowledged longer than ``visibility_timeout`` to
another worker. A task running past the timeout, or a retry waiting on its
countdown past it (the worker holds it unacknowledged until it is due), would
then run twice in parallel.
"""

import pytest
from django.conf import settings

from portal.celery import app

OUR_APPS = ("portal.", "catalog.", "billing.", "bookings.", "referrals.", "mailings.", "support.")


def our_tasks():
    app.loader.import_default_modules()
    return sorted(
        (task for name, task in app.tasks.items() if name.startswith(OUR_APPS) and ".tests." not in name),
        key=lambda task: task.name,
    )


def test_every_project_task_is_found():
    names = {task.name for task in our_tasks()}
    assert {"portal.tasks.ping", "mailings.tasks.send_mailing_batch", "mailings.tasks.deliver_notification"} <= names
    assert len(names) >= 10


def visibility_timeout() -> int:
    return settings.CELERY_VISIBILITY_TIMEOUT


def test_the_redis_broker_uses_the_configured_visibility_timeout():
    from portal.tests.production import run_python

    result = run_python(
        "from django.conf import settings as s; print(s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'])",
        {"DJANGO_DEBUG": "1", "REDIS_URL": "redis://cache.example:6379/0", "CELERY_VISIBILITY_TIMEOUT": "7200"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7200"


@pytest.mark.parametrize("task", our_tasks(), ids=lambda task: task.name)
def test_visibility_timeout_exceeds_the_tasks_time_limit_and_retry_countdown(task):
    hard_limit = task.time_limit or app.conf.task_time_limit
    assert hard_limit, f"{task.name} has no time limit"
    assert task.acks_late or app.conf.task_acks_late
    assert hard_limit < visibility_timeout(), f"{task.name}: time limit {hard_limit}s"

    if getattr(task, "autoretry_for", ()):
        if getattr(task, "retry_backoff", False):
            longest_countdown = getattr(task, "retry_backoff_max", 600)
        else:
            longest_countdown = task.default_retry_delay
        # the countdown is waited out, then the task runs: both fit in the timeout
        assert longest_countdown + hard_limit < visibility_timeout(), f"{task.name}: countdown {longest_countdown}s"
