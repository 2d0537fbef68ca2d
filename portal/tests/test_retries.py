"""The retry policy (portal.retries): transient errors are retried within the time limit, bugs fail once."""

import pytest
from celery import shared_task
from django.db import OperationalError

from billing import tasks as billing_tasks
from bookings import tasks as booking_tasks
from catalog import tasks as catalog_tasks
from portal import tasks as portal_tasks
from portal.retries import TRANSIENT_ERRORS, is_transient, retry_policy
from referrals import tasks as referral_tasks

ATTEMPTS: list[str] = []


def _flaky(failures: list[BaseException]) -> str:
    ATTEMPTS.append("try")
    if failures:
        raise failures.pop(0)
    return "done"


@shared_task(**retry_policy(time_limit=30, max_retries=3, backoff_max=1))
def flaky_task(failures: list[str]) -> str:
    errors = {"db": OperationalError("could not obtain lock"), "bug": KeyError("missing"), "net": ConnectionError()}
    return _flaky([errors[name] for name in failures[len(ATTEMPTS) :]])


@pytest.fixture(autouse=True)
def _attempts():
    """Eager runs that keep their failure in the result (as a worker would) instead of raising it."""
    from portal.celery import app

    ATTEMPTS.clear()
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True
    ATTEMPTS.clear()


def test_transient_errors_are_retried_until_it_works():
    result = flaky_task.apply(args=[["db", "net"]])

    assert result.get() == "done"
    assert len(ATTEMPTS) == 3


def test_a_bug_fails_the_task_once():
    result = flaky_task.apply(args=[["bug", "bug"]])

    assert result.failed() and isinstance(result.result, KeyError)
    assert len(ATTEMPTS) == 1


def test_retries_are_bounded():
    result = flaky_task.apply(args=[["db"] * 10])

    assert result.failed() and isinstance(result.result, OperationalError)
    assert len(ATTEMPTS) == 4  # the first try and max_retries=3


def test_what_counts_as_transient():
    import smtplib

    import requests

    assert is_transient(OperationalError()) and is_transient(requests.ConnectionError())
    assert is_transient(smtplib.SMTPServerDisconnected()) and is_transient(TimeoutError())
    assert not is_transient(ValueError()) and not is_transient(smtplib.SMTPRecipientsRefused({}))
    assert not is_transient(FileNotFoundError())  # an OSError, but no second try will find the file


@pytest.mark.parametrize(
    "task",
    [
        billing_tasks.renew_subscriptions,
        billing_tasks.remind_expiring_subscriptions,
        billing_tasks.snapshot_revenue,
        billing_tasks.notify_staff_topup,
        booking_tasks.send_booking_reminders,
        booking_tasks.mark_no_shows,
        referral_tasks.notify_referrer,
        catalog_tasks.run_import_job,
        portal_tasks.ping,
    ],
    ids=lambda task: task.name,
)
def test_every_app_task_follows_the_policy(task):
    # billing used to retry every exception: a bug re-ran the whole renewal batch
    assert task.autoretry_for in (TRANSIENT_ERRORS, ())
    assert Exception not in task.autoretry_for
    assert task.max_retries * task.retry_backoff_max <= task.time_limit
    assert task.acks_late and task.soft_time_limit < task.time_limit


def test_a_policy_that_cannot_fit_its_time_limit_is_refused():
    with pytest.raises(ValueError):
        retry_policy(time_limit=60, max_retries=5, backoff_max=60)
