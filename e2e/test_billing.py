"""Journey: an owner tops up through the local fake Robokassa, buys a subscription
for their organization and sees it listed in the public catalog."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import Payment
from billing.selectors import balance_get
from billing.tests.factories import PlanFactory
from catalog.tests.factories import OrganizationFactory
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_top_up_through_fake_robokassa_buy_a_subscription_and_appear_in_the_catalog(page, live_server, login, settings):
    settings.SITE_URL = live_server.url
    settings.ROBOKASSA_IS_TEST = True
    settings.ROBOKASSA_PAYMENT_URL = f"{live_server.url}/billing/robokassa/fake/"
    owner = UserFactory(first_name="Мария")
    org = OrganizationFactory(owner=owner, name="Кофейня «Зерно»", listed_until=None)
    PlanFactory(name="Старт", price=Decimal("990.00"))

    # The owner tops up 1 000 ₽ from the balance page and pays on the (fake) Robokassa page
    login(owner)
    page.goto("/billing/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Баланс")
    page.get_by_label("Сумма, ₽").fill("1000")
    page.get_by_role("button", name="Оплатить через Robokassa").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Robokassa (тестовый режим)")
    expect(page.locator("main")).to_contain_text("1\u00a0000\u00a0₽")
    page.get_by_role("button", name="Оплатить", exact=True).click()

    # Back on our success page: the signed ResultURL callback has already credited the balance
    expect(page).to_have_url(re.compile(r"/billing/robokassa/success/\?"))
    expect(page.get_by_role("status")).to_contain_text("зачислено 1\u00a0000\u00a0₽")
    assert Payment.objects.get(user=owner).status == "paid"
    assert balance_get(user=owner) == Decimal("1000.00")

    # Not listed yet; the owner buys "Старт" for the organization
    page.goto("/catalog/")
    expect(page.locator("main")).not_to_contain_text("Кофейня «Зерно»")
    page.goto("/billing/subscriptions/")
    page.get_by_role("link", name=re.compile("Кофейня «Зерно»")).click()
    page.get_by_label(re.compile("Старт")).check()
    page.get_by_role("button", name="Купить подписку").click()
    expect(page.get_by_role("alert").first).to_contain_text("показывается в каталоге")
    expect(page.get_by_role("table")).to_contain_text("Кофейня «Зерно»")
    assert balance_get(user=owner) == Decimal("10.00")

    # The organization is now in the public catalog
    page.goto("/catalog/")
    expect(page.locator("main")).to_contain_text("Кофейня «Зерно»")
    org.refresh_from_db()
    assert org.is_listed
