from datetime import timedelta

import pytest
from django.utils import timezone

from portal.tests.factories import UserFactory
from referrals.models import Referral, ReferralCode
from referrals.tests.factories import ReferralCodeFactory, ReferralFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/referrals"


def test_anonymous_gets_401(api_client):
    for method, url in [
        ("get", f"{BASE}/codes/"),
        ("post", f"{BASE}/codes/"),
        ("get", f"{BASE}/mine/"),
        ("post", f"{BASE}/apply/"),
        ("post", f"{BASE}/codes/1/activate/"),
        ("delete", f"{BASE}/codes/1/"),
    ]:
        assert getattr(api_client, method)(url).status_code in (401, 403), url


def test_create_and_list_codes(user_api, user, settings):
    response = user_api.post(f"{BASE}/codes/", {"days": 10}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["is_active"] is True and body["is_usable"] is True
    assert body["signup_link"] == f"{settings.SITE_URL}/accounts/signup/?ref={body['code']}"
    assert body["telegram_link"] == f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start=ref_{body['code']}"

    listing = user_api.get(f"{BASE}/codes/").json()
    assert listing["count"] == 1
    assert listing["results"][0]["id"] == body["id"]


def test_create_with_default_lifetime(user_api):
    assert user_api.post(f"{BASE}/codes/", {}, format="json").status_code == 201


@pytest.mark.parametrize("days", [0, 1000, "x"])
def test_create_with_bad_lifetime_is_400_and_creates_nothing(user_api, days):
    response = user_api.post(f"{BASE}/codes/", {"days": days}, format="json")
    assert response.status_code == 400
    assert not ReferralCode.objects.exists()


def test_activate_deactivate_delete(user_api, user):
    first = ReferralCodeFactory(user=user, is_active=False)
    second = ReferralCodeFactory(user=user, is_active=True)

    response = user_api.post(f"{BASE}/codes/{first.pk}/activate/")
    assert response.status_code == 200 and response.json()["is_active"] is True
    second.refresh_from_db()
    assert not second.is_active

    response = user_api.post(f"{BASE}/codes/{first.pk}/deactivate/")
    assert response.status_code == 200 and response.json()["is_active"] is False

    assert user_api.delete(f"{BASE}/codes/{first.pk}/").status_code == 204
    assert not ReferralCode.objects.filter(pk=first.pk).exists()


def test_activate_expired_code_is_400(user_api, user):
    code = ReferralCodeFactory(user=user, is_active=False, expires_at=timezone.now() - timedelta(days=1))
    response = user_api.post(f"{BASE}/codes/{code.pk}/activate/")
    assert response.status_code == 400
    assert response.json()["code"] == "code_expired"
    code.refresh_from_db()
    assert not code.is_active


def test_another_users_code_is_404_everywhere(user_api, other_user):
    code = ReferralCodeFactory(user=other_user, is_active=True)

    assert user_api.post(f"{BASE}/codes/{code.pk}/activate/").status_code == 404
    assert user_api.post(f"{BASE}/codes/{code.pk}/deactivate/").status_code == 404
    assert user_api.delete(f"{BASE}/codes/{code.pk}/").status_code == 404
    assert user_api.get(f"{BASE}/codes/").json()["count"] == 0
    code.refresh_from_db()
    assert code.is_active


def test_mine_lists_who_joined_with_totals(user_api, user, other_user):
    code = ReferralCodeFactory(user=user)
    ReferralFactory(code=code, referred=UserFactory(first_name="Анна", last_name="К."))
    ReferralFactory(code=code, referred=UserFactory(), bonus_paid_at=timezone.now(), bonus_amount="100.00")
    ReferralFactory(code=ReferralCodeFactory(user=other_user))  # not mine

    body = user_api.get(f"{BASE}/mine/").json()

    assert body["count"] == 2
    assert body["totals"] == {"total": 2, "bonus_paid": 1, "bonus_total": "100.00"}
    names = {row["referred_name"] for row in body["results"]}
    assert "Анна К." in names
    assert {row["bonus_paid"] for row in body["results"]} == {True, False}


def test_mine_query_count_is_constant(user_api, user, django_assert_max_num_queries):
    code = ReferralCodeFactory(user=user)
    for _ in range(15):
        ReferralFactory(code=code)
    with django_assert_max_num_queries(8):
        assert user_api.get(f"{BASE}/mine/").status_code == 200


def test_apply_records_the_referral(api_client, other_user):
    code = ReferralCodeFactory(user=other_user)
    newcomer = UserFactory()
    api_client.force_login(newcomer)

    response = api_client.post(f"{BASE}/apply/", {"code": code.code.lower()}, format="json")

    assert response.status_code == 201
    assert response.json()["source"] == "api"
    assert Referral.objects.get(referred=newcomer).referrer == other_user


def test_apply_refusals(api_client, other_user):
    newcomer = UserFactory()
    api_client.force_login(newcomer)

    response = api_client.post(f"{BASE}/apply/", {"code": "NOPE2345"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "code_not_found"

    response = api_client.post(f"{BASE}/apply/", {}, format="json")
    assert response.status_code == 400 and "code" in response.json()

    code = ReferralCodeFactory(user=other_user)
    assert api_client.post(f"{BASE}/apply/", {"code": code.code}, format="json").status_code == 201
    response = api_client.post(f"{BASE}/apply/", {"code": code.code}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "already_referred"
    assert Referral.objects.filter(referred=newcomer).count() == 1


def test_apply_too_late_is_409(api_client, other_user):
    code = ReferralCodeFactory(user=other_user)
    old_user = UserFactory(date_joined=timezone.now() - timedelta(days=2))
    api_client.force_login(old_user)

    response = api_client.post(f"{BASE}/apply/", {"code": code.code}, format="json")

    assert response.status_code == 409 and response.json()["code"] == "too_late"
    assert not Referral.objects.exists()


def test_blocked_user_gets_403(api_client):
    blocked = UserFactory(is_blocked=True)
    api_client.force_authenticate(blocked)
    response = api_client.get(f"{BASE}/codes/")
    assert response.status_code == 403
    assert response.json()["code"] == "user_blocked"
