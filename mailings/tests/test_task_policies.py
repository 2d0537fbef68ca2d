"""Each mailings task keeps its registered name and the retry policy docs/architecture.md ("Retries") lists."""

import pytest

from mailings import tasks
from portal.task_retries import RetryTransient


@pytest.mark.parametrize(
    ("name", "max_retries", "backoff", "backoff_max", "soft_time_limit", "time_limit"),
    [
        ("deliver_notification", 8, 30, 1800, 100, 120),
        ("send_mailing_batch", 10, 5, 300, 840, 900),
        ("process_telegram_update", 3, 2, 30, 50, 60),
        ("vk_send_message", 5, 5, 120, 50, 60),
    ],
)
def test_a_retrying_task_carries_its_named_policy(name, max_retries, backoff, backoff_max, soft_time_limit, time_limit):
    task = getattr(tasks, name)._get_current_object()

    assert task.name == f"mailings.tasks.{name}"
    assert isinstance(task, RetryTransient) and task.acks_late
    assert (task.max_retries, task.retry_backoff, task.retry_backoff_max) == (max_retries, backoff, backoff_max)
    assert (task.soft_time_limit, task.time_limit) == (soft_time_limit, time_limit)


def test_the_dispatcher_is_not_retried():
    task = tasks.dispatch_due_mailings._get_current_object()

    assert task.name == "mailings.tasks.dispatch_due_mailings"
    assert not isinstance(task, RetryTransient) and not getattr(task, "autoretry_for", ())
    assert (task.acks_late, task.soft_time_limit, task.time_limit) == (True, 540, 600)
