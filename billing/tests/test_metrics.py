"""Robokassa's result callbacks move citydesk_payments_total: paid once, rejected for a forgery."""

from decimal import Decimal

import pytest
from django.test import Client

from billing.tests.factories import PaymentFactory
from billing.tests.helpers import robokassa_test_shop
from billing.tests.test_robokassa import RESULT_URL, result_params
from portal.tests.metrics import sample, scrape

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _robokassa(settings):
    robokassa_test_shop(settings)


def test_a_forged_callback_moves_rejected_and_credits_nothing(client, settings):
    payment = PaymentFactory(amount=Decimal("500.00"))
    before = scrape(Client(), settings)

    forged = result_params(payment, password="guessed")
    response = client.post(RESULT_URL, forged)

    assert response.status_code == 400
    after = scrape(Client(), settings)
    assert sample(after, "citydesk_payments_total", status="rejected") == (
        sample(before, "citydesk_payments_total", status="rejected") + 1
    )
    assert sample(after, "citydesk_payments_total", status="paid") == sample(
        before, "citydesk_payments_total", status="paid"
    )
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_a_paid_payment_counts_once_however_many_callbacks(client, settings, django_capture_on_commit_callbacks):
    payment = PaymentFactory(amount=Decimal("500.00"))
    before = scrape(Client(), settings)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(RESULT_URL, result_params(payment)).status_code == 200
        assert client.post(RESULT_URL, result_params(payment)).status_code == 200  # Robokassa repeats itself

    after = scrape(Client(), settings)
    assert sample(after, "citydesk_payments_total", status="paid") == (
        sample(before, "citydesk_payments_total", status="paid") + 1
    )
    assert sample(after, "citydesk_payments_total", status="rejected") == sample(
        before, "citydesk_payments_total", status="rejected"
    )
