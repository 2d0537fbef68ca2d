"""The Redis broker's visibility timeout outlasts every task, so acks_late never runs a task twice at once.

With ``acks_late`` a message is acknowledged when its task finishes; Redis hands
a message that stays unacknowledged longer than ``visibility_timeout`` to
another worker. A task running past the timeout, or a retry waiting on its
countdown past it (the worker holds it unacknowledged until it is due), would
then run twice in parallel.
"""

import pytest
from django.conf import settings
from django.test import override_settings

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


# --- the system check: a visibility timeout set too short in the environment stops `migrate` -------


def test_the_configured_visibility_timeout_passes_the_check():
    from portal.celery_checks import check_visibility_timeout

    with override_settings(CELERY_BROKER_URL="redis://cache.example:6379/1"):
        assert check_visibility_timeout() == []


def test_a_timeout_shorter_than_the_longest_task_is_an_error():
    from portal.celery_checks import check_visibility_timeout

    # given: the CSV import may run 1900 s; a mailing batch 900 s after a 300 s countdown
    short = {"visibility_timeout": 1500}
    with override_settings(CELERY_BROKER_URL="redis://cache.example:6379/1", CELERY_BROKER_TRANSPORT_OPTIONS=short):
        # when
        found = check_visibility_timeout()
    # then
    assert {message.id for message in found} == {"citydesk.E002"}
    named = " ".join(message.msg for message in found)
    assert "catalog.tasks.run_import_job may stay unacknowledged 1960 s" in named  # 60 s backoff + 1900 s
    assert "mailings.tasks.deliver_notification may stay unacknowledged 1920 s" in named  # 1800 s + 120 s
    assert "send_mailing_batch" not in named  # 300 s + 900 s fits in 1500 s


def test_the_check_leaves_other_brokers_alone():
    from portal.celery_checks import check_visibility_timeout

    with override_settings(CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS={}):
        assert check_visibility_timeout() == []


def test_migrate_runs_the_check():
    from django.core import checks

    assert "check_visibility_timeout" in {check.__name__ for check in checks.registry.registry.get_checks()}
