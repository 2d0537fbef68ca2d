"""GET /api/v1/referrals/code/?email= — public, throttled, cached, invalidated on every change."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from portal.tests.factories import UserFactory
from referrals import lookup_cache, services
from referrals.tests.factories import ReferralCodeFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/referrals/code/"


def lookup(api_client, email):
    return api_client.get(URL, {"email": email}, REMOTE_ADDR="10.1.1.1")


def test_found(api_client, user):
    code = services.referral_code_create(user=user, days=5)

    response = lookup(api_client, user.email.upper())

    assert response.status_code == 200
    assert response.json()["code"] == code.code
    assert response.json()["expires_at"].startswith(str(code.expires_at.year))
    assert set(response.json()) == {"code", "expires_at"}


def test_unknown_email_inactive_expired_and_blocked_all_look_the_same(api_client):
    inactive = ReferralCodeFactory(is_active=False).user
    expired = ReferralCodeFactory(expires_at=timezone.now() - timedelta(seconds=1)).user
    blocked = ReferralCodeFactory().user
    blocked.is_blocked = True
    blocked.save()

    bodies = []
    for email in ["nobody@example.com", inactive.email, expired.email, blocked.email]:
        response = lookup(api_client, email)
        assert response.status_code == 404
        bodies.append(response.json())
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["code"] == "not_found"


def test_bad_email_is_400(api_client):
    assert lookup(api_client, "not-an-email").status_code == 400
    assert api_client.get(URL).status_code == 400


def test_answer_is_cached(api_client, user, django_assert_num_queries):
    services.referral_code_create(user=user)
    assert lookup(api_client, user.email).status_code == 200
    with django_assert_num_queries(0):
        assert lookup(api_client, user.email).status_code == 200
    assert cache.get(lookup_cache.key_for_email(user.email)) is not None


def test_an_uncached_answer_is_one_query(api_client, user, django_assert_num_queries):
    services.referral_code_create(user=user)
    cache.clear()

    with django_assert_num_queries(1):
        assert lookup(api_client, user.email).status_code == 200
    cache.clear()
    with django_assert_num_queries(1):
        assert lookup(api_client, "nobody@example.com").status_code == 404


def test_cache_is_invalidated_on_every_change(api_client, user):
    # given a cached miss
    assert lookup(api_client, user.email).status_code == 404

    # create
    first = services.referral_code_create(user=user)
    assert lookup(api_client, user.email).json()["code"] == first.code

    # create another (the first is deactivated)
    second = services.referral_code_create(user=user)
    assert lookup(api_client, user.email).json()["code"] == second.code

    # activate
    services.referral_code_activate(user=user, code_id=first.pk)
    assert lookup(api_client, user.email).json()["code"] == first.code

    # deactivate
    services.referral_code_deactivate(user=user, code_id=first.pk)
    assert lookup(api_client, user.email).status_code == 404

    # activate again, then delete
    services.referral_code_activate(user=user, code_id=second.pk)
    assert lookup(api_client, user.email).json()["code"] == second.code
    services.referral_code_delete(user=user, code_id=second.pk)
    assert lookup(api_client, user.email).status_code == 404


def test_blocking_the_user_drops_the_cached_code(api_client, user):
    services.referral_code_create(user=user)
    assert lookup(api_client, user.email).status_code == 200

    from portal.services import user_block

    user_block(user=user, reason="spam")

    assert lookup(api_client, user.email).status_code == 404


def test_changing_the_email_drops_the_old_address_from_the_lookup(api_client, user):
    code = services.referral_code_create(user=user)
    old_email = user.email
    assert lookup(api_client, old_email).json()["code"] == code.code

    # what allauth does when the user makes another address primary
    user.email = "new-address@example.com"
    user.save(update_fields=["email"])

    assert lookup(api_client, old_email).status_code == 404
    assert lookup(api_client, "new-address@example.com").json()["code"] == code.code


def test_a_login_keeps_the_cached_answer(api_client, user, django_assert_num_queries):
    from django.contrib.auth.models import update_last_login

    services.referral_code_create(user=user)
    assert lookup(api_client, user.email).status_code == 200

    update_last_login(None, user)  # saves last_login only: nothing the lookup shows

    with django_assert_num_queries(0):
        assert lookup(api_client, user.email).status_code == 200


def test_cached_code_disappears_at_expiry(api_client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        user = UserFactory()
        services.referral_code_create(user=user, days=1)
        assert lookup(api_client, user.email).status_code == 200

    with time_machine.travel(start + timedelta(days=1, seconds=1), tick=False):
        assert lookup(api_client, user.email).status_code == 404


def test_cache_timeout_is_bounded_by_time_to_expiry(user):
    code = ReferralCodeFactory(user=user, expires_at=timezone.now() + timedelta(seconds=30))
    from referrals.selectors import referral_code_lookup_by_email

    assert referral_code_lookup_by_email(email=user.email)["code"] == code.code
    # 30 s left → cached for at most 30 s (LocMem/Redis both honour the timeout).
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        assert referral_code_lookup_by_email(email=user.email) is None


def test_throttled_per_client(api_client, settings):
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["referral_lookup"]
    limit = int(rate.split("/")[0])
    for _ in range(limit):
        assert lookup(api_client, "nobody@example.com").status_code == 404

    response = lookup(api_client, "nobody@example.com")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    # another client is not affected
    assert api_client.get(URL, {"email": "nobody@example.com"}, REMOTE_ADDR="10.2.2.2").status_code == 404


@pytest.mark.redis
def test_lookup_cache_lives_in_redis(api_client, user):
    import redis
    from django.conf import settings
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)
    services.referral_code_create(user=user, days=1)
    lookup(api_client, user.email)
    key = caches["default"].make_and_validate_key(lookup_cache.key_for_email(user.email))
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(key)
    assert 0 < ttl <= lookup_cache.TIMEOUT_SECONDS
