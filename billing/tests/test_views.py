from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing import services
from billing.models import Payment, Subscription
from billing.selectors import balance_get
from billing.tests.factories import PlanFactory
from billing.tests.helpers import fund
from catalog.tests.factories import OrganizationFactory
from portal.tests.production import PRODUCTION_ENV, run_python

pytestmark = pytest.mark.django_db


def test_balance_page_shows_balance_and_history(client, user):
    fund(user, "1990")
    client.force_login(user)
    response = client.get("/billing/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "1\xa0990\xa0₽" in html
    assert 'name="amount"' in html


def test_pages_need_login(client):
    for url in ["/billing/", "/billing/subscriptions/", "/billing/subscribe/1/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_topup_form_redirects_to_the_payment_page(client, user, settings):
    settings.ROBOKASSA_PAYMENT_URL = ""
    client.force_login(user)
    response = client.post("/billing/topup/", {"amount": "500"})
    assert response.status_code == 302
    assert response["Location"].startswith("https://auth.robokassa.ru/Merchant/Index.aspx?")
    assert Payment.objects.get().amount == Decimal("500.00")


@pytest.mark.parametrize("amount", ["", "abc", "10", "1000000", "1.234"])
def test_bad_topup_form_shows_the_error_next_to_the_field(client, user, amount):
    client.force_login(user)
    response = client.post("/billing/topup/", {"amount": amount})
    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode()
    assert not Payment.objects.exists()


def test_plans_page(client):
    PlanFactory(name="Бизнес", price=Decimal("2490"))
    html = client.get("/billing/plans/").content.decode()
    assert "Бизнес" in html and "2\xa0490\xa0₽" in html


def test_subscribe_page_buys_and_lists(client, user):
    org = OrganizationFactory(owner=user, listed_until=None)
    plan = PlanFactory()
    fund(user, "1000")
    client.force_login(user)

    assert client.get(f"/billing/subscribe/{org.pk}/").status_code == 200
    response = client.post(f"/billing/subscribe/{org.pk}/", {"plan": plan.pk})

    assert response.status_code == 302
    assert Subscription.objects.get().organization == org
    page = client.get("/billing/subscriptions/").content.decode()
    assert org.name in page


def test_subscribe_without_money_shows_the_error(client, user):
    org = OrganizationFactory(owner=user, listed_until=None)
    plan = PlanFactory()
    client.force_login(user)
    response = client.post(f"/billing/subscribe/{org.pk}/", {"plan": plan.pk})
    assert response.status_code == 400
    assert "Недостаточно" in response.content.decode() or "Not enough" in response.content.decode()
    assert not Subscription.objects.exists()


def test_subscribe_page_of_someone_elses_organization_is_404(client, user, other_user):
    org = OrganizationFactory(owner=other_user)
    plan = PlanFactory()
    fund(user, "5000")
    client.force_login(user)
    assert client.get(f"/billing/subscribe/{org.pk}/").status_code == 404
    assert client.post(f"/billing/subscribe/{org.pk}/", {"plan": plan.pk}).status_code == 404
    assert balance_get(user=user) == Decimal("5000.00")


def test_cancel_from_the_page_and_isolation(client, user, other_user):
    org = OrganizationFactory(owner=user, listed_until=None)
    plan = PlanFactory()
    fund(user, "1000")
    sub = services.subscription_create(user=user, organization_id=org.pk, plan_id=plan.pk)
    client.force_login(other_user)
    assert client.post(f"/billing/subscriptions/{sub.pk}/cancel/").status_code == 404
    client.force_login(user)
    assert client.post(f"/billing/subscriptions/{sub.pk}/cancel/").status_code == 302
    sub.refresh_from_db()
    assert sub.status == "cancelled"


def test_payment_status_fragment_is_private(client, user, other_user):
    payment = services.payment_create(user=user, amount="500")
    client.force_login(other_user)
    assert client.get(f"/billing/payments/{payment.pk}/status/").status_code == 404
    client.force_login(user)
    assert client.get(f"/billing/payments/{payment.pk}/status/").status_code == 200


def test_fake_robokassa_is_not_routed_in_a_production_process():
    # DEBUG off: the production URLs have no fake page and its module is never even imported.
    code = """
import sys
from django.urls import Resolver404, resolve
resolve("/billing/robokassa/result/")  # loads the whole URL configuration
try:
    resolve("/billing/robokassa/fake/")
    print("routed")
except Resolver404:
    print("not-routed")
print("billing.dev_robokassa" in sys.modules)
"""
    result = run_python(code, {**PRODUCTION_ENV, "ROBOKASSA_IS_TEST": "1"})

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["not-routed", "False"]


def test_production_views_do_not_contain_the_fake_robokassa():
    from billing import views

    assert not [name for name in vars(views) if "fake" in name.lower()]


def test_fake_robokassa_is_off_for_a_live_shop(client, settings):
    settings.ROBOKASSA_IS_TEST = False
    assert client.get("/billing/robokassa/fake/").status_code == 404


def test_fake_robokassa_rejects_a_forged_link(client, settings):
    settings.ROBOKASSA_IS_TEST = True
    response = client.get(
        "/billing/robokassa/fake/",
        {"MerchantLogin": settings.ROBOKASSA_LOGIN, "OutSum": "1.00", "InvId": "1", "SignatureValue": "nope"},
    )
    assert response.status_code == 400


def test_subscriptions_page_offers_every_organization_without_a_paid_up_subscription(client, user):
    # given: one listed organization, one whose cancelled subscription has run out, one never subscribed
    plan = PlanFactory()
    listed = OrganizationFactory(owner=user, name="Действующая", listed_until=None)
    lapsed = OrganizationFactory(owner=user, name="Отменённая", listed_until=None)
    fresh = OrganizationFactory(owner=user, name="Новая", listed_until=None)
    fund(user, "5000")
    start = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.get_default_timezone())
    with time_machine.travel(start, tick=False):
        sub = services.subscription_create(user=user, organization_id=lapsed.pk, plan_id=plan.pk)
        services.subscription_cancel(user=user, subscription_id=sub.pk)
    client.force_login(user)

    with time_machine.travel(sub.current_period_end + timedelta(days=1), tick=False):
        services.subscription_create(user=user, organization_id=listed.pk, plan_id=plan.pk)
        # when
        offered = list(client.get("/billing/subscriptions/").context["organizations"])

    # then
    assert offered == [fresh, lapsed]


def test_subscriptions_page_does_not_offer_organizations_subscribed_on_another_page(client, user):
    plan = PlanFactory(price=Decimal("100"))
    fund(user, "2100")
    for number in range(21):
        org = OrganizationFactory(owner=user, name=f"Организация {number:02}", listed_until=None)
        services.subscription_create(user=user, organization_id=org.pk, plan_id=plan.pk)
    client.force_login(user)

    assert list(client.get("/billing/subscriptions/").context["organizations"]) == []
