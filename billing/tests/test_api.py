from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from billing import services
from billing.models import LedgerEntry, Payment, Subscription
from billing.selectors import balance_get
from billing.tests.factories import PlanFactory
from billing.tests.helpers import assert_ledger_invariant, fund
from catalog.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/billing"


def test_balance_of_a_new_user(user_api):
    assert user_api.get(f"{API}/balance/").json() == {"balance": "0.00", "currency": "RUB"}


def test_balance_and_transactions_show_only_own_data(user_api, user, other_user):
    fund(user, "150.50")
    fund(other_user, "999")

    assert user_api.get(f"{API}/balance/").json()["balance"] == "150.50"
    body = user_api.get(f"{API}/transactions/").json()
    assert body["count"] == 1
    assert body["results"][0]["amount"] == "150.50"
    assert body["results"][0]["kind"] == "topup"


@pytest.mark.parametrize("url", ["balance/", "transactions/", "subscriptions/"])
def test_anonymous_gets_401_or_403(api_client, url):
    assert api_client.get(f"{API}/{url}").status_code in (401, 403)


def test_topup_creates_a_pending_payment_with_signed_url(user_api, user, settings):
    settings.ROBOKASSA_PAYMENT_URL = ""
    response = user_api.post(f"{API}/topups/", {"amount": "500.00"}, format="json")

    assert response.status_code == 201
    body = response.json()
    payment = Payment.objects.get()
    assert body["invoice_id"] == payment.pk
    assert body["amount"] == "500.00"
    assert body["status"] == "pending"
    query = parse_qs(urlsplit(body["payment_url"]).query)
    assert query["InvId"] == [str(payment.pk)]
    assert query["OutSum"] == ["500.00"]
    assert payment.user == user


@pytest.mark.parametrize(
    "amount", ["", "abc", "-10", "0", "99.99", "100000.01", "150.555", None, "1e30", "1" + "0" * 40, 1e30]
)
def test_bad_topup_amount_is_a_field_error_and_creates_nothing(user_api, amount):
    response = user_api.post(f"{API}/topups/", {"amount": amount} if amount is not None else {}, format="json")
    assert response.status_code == 400
    assert "amount" in response.json()
    assert not Payment.objects.exists()


def test_plans_are_public_and_list_only_active(api_client):
    PlanFactory(name="Старт")
    PlanFactory(name="Архив", is_active=False)
    body = api_client.get(f"{API}/plans/").json()
    assert [p["name"] for p in body["results"]] == ["Старт"]
    assert body["results"][0]["price"] == "990.00"


def test_buy_subscription(user_api, user):
    org = OrganizationFactory(owner=user, listed_until=None)
    plan = PlanFactory()
    fund(user, "1000")

    response = user_api.post(f"{API}/subscriptions/", {"organization": org.pk, "plan": plan.pk}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["organization"] == org.pk
    assert body["status"] == "active"
    assert body["plan"]["id"] == plan.pk
    assert user_api.get(f"{API}/subscriptions/").json()["count"] == 1
    assert user_api.get(f"{API}/balance/").json()["balance"] == "10.00"


def test_buy_without_money_is_409(user_api, user):
    org = OrganizationFactory(owner=user, listed_until=None)
    plan = PlanFactory()
    response = user_api.post(f"{API}/subscriptions/", {"organization": org.pk, "plan": plan.pk}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_funds"
    assert not Subscription.objects.exists()


def test_buy_for_someone_elses_organization_is_404(user_api, user, other_user):
    org = OrganizationFactory(owner=other_user, listed_until=None)
    plan = PlanFactory()
    fund(user, "5000")
    response = user_api.post(f"{API}/subscriptions/", {"organization": org.pk, "plan": plan.pk}, format="json")
    assert response.status_code == 404
    assert balance_get(user=user) == Decimal("5000.00")
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("payload", [{}, {"organization": "x", "plan": 1}, {"organization": 1}])
def test_buy_bad_input_is_400(user_api, user, payload):
    fund(user, "5000")
    assert user_api.post(f"{API}/subscriptions/", payload, format="json").status_code == 400
    assert LedgerEntry.objects.count() == 1


def test_buy_unknown_plan_is_400(user_api, user):
    org = OrganizationFactory(owner=user, listed_until=None)
    fund(user, "5000")
    response = user_api.post(f"{API}/subscriptions/", {"organization": org.pk, "plan": 999999}, format="json")
    assert response.status_code == 400
    assert "plan" in response.json()


def test_subscriptions_list_detail_and_cancel_are_isolated(user, other_user):
    mine = OrganizationFactory(owner=user, listed_until=None)
    theirs = OrganizationFactory(owner=other_user, listed_until=None)
    plan = PlanFactory()
    fund(user, "5000")
    fund(other_user, "5000")
    my_sub = services.subscription_create(user=user, organization_id=mine.pk, plan_id=plan.pk)
    their_sub = services.subscription_create(user=other_user, organization_id=theirs.pk, plan_id=plan.pk)
    client = APIClient()
    client.force_login(user)

    listed = client.get(f"{API}/subscriptions/").json()
    assert [s["id"] for s in listed["results"]] == [my_sub.pk]
    assert client.get(f"{API}/subscriptions/{their_sub.pk}/").status_code == 404
    assert client.post(f"{API}/subscriptions/{their_sub.pk}/cancel/").status_code == 404
    their_sub.refresh_from_db()
    assert their_sub.status == "active"

    response = client.post(f"{API}/subscriptions/{my_sub.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert client.post(f"{API}/subscriptions/{my_sub.pk}/cancel/").status_code == 409
    assert_ledger_invariant()


def test_blocked_user_gets_403(user_api, user):
    user.is_blocked = True
    user.save()
    response = user_api.get(f"{API}/balance/")
    assert response.status_code in (401, 403)
