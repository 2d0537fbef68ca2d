"""A throttled request costs one round trip to Redis, whatever the number of its scopes
(portal/throttling.py: one Lua script counts them all)."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from portal.tests.redis_trips import redis_round_trips
from portal.throttling import WRITE_THROTTLES, throttle_hit

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

NOW = datetime(2026, 3, 3, 12, 0, 30, tzinfo=UTC)
HOUR = int(NOW.timestamp() // 3600)
MINUTE = int(NOW.timestamp() // 60)


class TicketProbe(APIView):
    """A write counted against the "ticket" scope and the global one, like the ticket API."""

    throttle_classes = WRITE_THROTTLES
    throttle_scope = "ticket"

    def post(self, request):
        return Response({"ok": True}, status=201)

    def get(self, request):
        return Response({"ok": True})


@pytest.fixture
def rates(settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "ticket": "2/hour", "user": "100/min"}
    settings.REST_FRAMEWORK = rest


def post(user):
    request = APIRequestFactory().post("/probe/", {}, format="json")
    force_authenticate(request, user=user)
    return TicketProbe.as_view()(request)


def warm_up_the_script():
    # The first use of the script on a server loads it (SCRIPT LOAD): not what is measured here.
    throttle_hit(APIRequestFactory().get("/"), "anon")


@time_machine.travel(NOW, tick=False)
def test_a_write_counts_both_scopes_in_one_round_trip(rates, user):
    warm_up_the_script()

    with redis_round_trips() as trips:
        response = post(user)

    assert response.status_code == 201
    assert trips == [["EVALSHA"]]
    assert cache.get(f"throttle:ticket:user:{user.pk}:{HOUR}") == 1
    assert cache.get(f"throttle:user:user:{user.pk}:{MINUTE}") == 1


@time_machine.travel(NOW, tick=False)
def test_a_refusal_is_one_round_trip_too_and_is_not_counted_in_the_scope_that_refused(rates, user):
    warm_up_the_script()
    assert [post(user).status_code for _ in range(2)] == [201, 201]

    with redis_round_trips() as trips:
        refused = post(user)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert trips == [["EVALSHA"]]
    assert cache.get(f"throttle:ticket:user:{user.pk}:{HOUR}") == 2  # the refused one is not counted
    assert cache.get(f"throttle:user:user:{user.pk}:{MINUTE}") == 3  # the global scope allowed it


@time_machine.travel(NOW, tick=False)
def test_a_read_counts_only_the_global_scope(rates, user):
    warm_up_the_script()
    request = APIRequestFactory().get("/probe/")
    force_authenticate(request, user=user)

    with redis_round_trips() as trips:
        response = TicketProbe.as_view()(request)

    assert response.status_code == 200
    assert trips == [["EVALSHA"]]
    assert cache.get(f"throttle:ticket:user:{user.pk}:{HOUR}") is None
    assert cache.get(f"throttle:user:user:{user.pk}:{MINUTE}") == 1
