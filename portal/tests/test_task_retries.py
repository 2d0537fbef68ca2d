"""The retry policy of Celery tasks: transient failures retried with bounded backoff, bugs fail once."""

import pytest
from celery import shared_task
from django.db import OperationalError, transaction

from portal.task_retries import RetryTransient, TransientError, is_transient, retry_countdown
from portal.tests.factories import UserFactory

calls: list[str] = []


@shared_task(base=RetryTransient, max_retries=2, retry_backoff=1, retry_backoff_max=4)
def flaky(failures: list[str]) -> str:
    """Raises the named errors one per attempt, then succeeds."""
    calls.append("call")
    if len(calls) <= len(failures):
        name = failures[len(calls) - 1]
        raise {"transient": TransientError("network"), "bug": ValueError("a bug")}[name]
    return "done"


@pytest.fixture(autouse=True)
def _fresh(celery_retries_in_place):
    calls.clear()


def test_a_transient_failure_is_retried_until_it_goes_away():
    result = flaky.apply(args=[["transient", "transient"]])

    assert (result.state, result.result) == ("SUCCESS", "done")
    assert len(calls) == 3


def test_a_bug_fails_once_without_a_retry():
    result = flaky.apply(args=[["bug"]])

    assert result.state == "FAILURE" and isinstance(result.result, ValueError)
    assert len(calls) == 1


def test_retries_are_bounded():
    result = flaky.apply(args=[["transient"] * 5])

    assert result.state == "FAILURE" and isinstance(result.result, TransientError)
    assert len(calls) == 3  # the first run and max_retries=2


def test_the_backoff_doubles_up_to_its_cap_and_honours_retry_after():
    waits = [retry_countdown(retries=n, backoff=5, backoff_max=60) for n in range(6)]

    assert 4 <= waits[0] <= 5 and 8 <= waits[1] <= 10 and 16 <= waits[2] <= 20
    assert max(waits) <= 60
    assert retry_countdown(retries=0, backoff=5, backoff_max=60, retry_after=30) == 30
    assert retry_countdown(retries=0, backoff=5, backoff_max=60, retry_after=3600) == 60


def test_bugs_are_not_transient():
    assert not is_transient(ValueError("x"))
    assert not is_transient(KeyError("x"))
    assert is_transient(TransientError("x"))
    assert is_transient(ConnectionResetError())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_timeout_is_transient(row_locked_elsewhere):
    user = UserFactory()

    with row_locked_elsewhere(user), pytest.raises(OperationalError) as info, transaction.atomic():
        type(user).objects.select_for_update().get(pk=user.pk)

    assert is_transient(info.value)
