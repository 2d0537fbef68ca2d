"""Celery on Redis: the broker's visibility timeout must outlast every task of ours.

Tasks are acknowledged when they finish (``acks_late``). Redis hands a message
that stays unacknowledged longer than ``visibility_timeout`` to another worker,
so a task still running past it — or a retry the worker holds unacknowledged
while its countdown runs — would run twice at once. The timeout is an
environment variable (``CELERY_VISIBILITY_TIMEOUT``) while the time limits and
back-offs live in the code, so the relation is checked where both meet: a
system check (``citydesk.E002``) that stops ``manage.py migrate`` — the first
step of every deployment — when the configured timeout is too short.
"""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.core import checks
from django.utils.module_loading import autodiscover_modules

from portal.task_retries import RetryTransient

# Celery's default cap of an automatic retry's back-off (Task.retry_backoff_max).
CELERY_DEFAULT_BACKOFF_MAX = 600
OUR_APPS = ("portal.", "catalog.", "billing.", "bookings.", "referrals.", "mailings.", "support.")


def task_longest_unacknowledged(task, *, default_time_limit: int | None) -> int | None:
    """Seconds a message of ``task`` can stay unacknowledged: the longest retry countdown (held by
    the worker until due) plus the hard time limit of the run; None when the task has no limit."""
    limit = task.time_limit or default_time_limit
    if not limit:
        return None
    retries = bool(getattr(task, "autoretry_for", ())) or isinstance(task, RetryTransient)
    countdown = 0
    if retries and task.max_retries:
        if getattr(task, "retry_backoff", False):
            countdown = getattr(task, "retry_backoff_max", None) or CELERY_DEFAULT_BACKOFF_MAX
        else:
            countdown = task.default_retry_delay or 0
    return countdown + limit


def project_tasks(app) -> list:
    """The registered tasks of our apps (test-only tasks left out)."""
    # Each app's tasks module, imported the way Django finds admin modules: not through Celery's
    # loader, whose import signal makes Celery's Django fixup run the system checks (this one again).
    autodiscover_modules("tasks")
    tasks = (task for name, task in app.tasks.items() if name.startswith(OUR_APPS) and ".tests." not in name)
    return sorted(tasks, key=lambda task: task.name)


def visibility_timeout_problems(*, tasks, timeout: int, default_time_limit: int | None) -> list[str]:
    """What does not fit in ``timeout``: tasks without a time limit, and tasks whose
    countdown plus time limit reach it."""
    problems = []
    for task in tasks:
        longest = task_longest_unacknowledged(task, default_time_limit=default_time_limit)
        if longest is None:
            problems.append(f"{task.name} has no time limit")
        elif longest >= timeout:
            problems.append(f"{task.name} may stay unacknowledged {longest} s")
    return problems


def check_visibility_timeout(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``citydesk.E002``: with a Redis broker, every task fits in the visibility timeout."""
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return []
    from portal.celery import app

    timeout = int(cast(int, settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)))  # kombu default
    problems = visibility_timeout_problems(
        tasks=project_tasks(app), timeout=timeout, default_time_limit=settings.CELERY_TASK_TIME_LIMIT
    )
    return [
        checks.Error(
            f"The Redis broker's visibility timeout ({timeout} s) is too short: {problem}; "
            "it would be delivered to a second worker while the first still holds it.",
            hint="Raise CELERY_VISIBILITY_TIMEOUT above it (docs/operations.md, Scaling).",
            id="citydesk.E002",
        )
        for problem in problems
    ]


def register() -> None:
    checks.register(check_visibility_timeout)
