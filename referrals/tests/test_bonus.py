"""The referral bonus on the referred user's first paid top-up, through billing's real callback."""

from decimal import Decimal

import pytest

from billing import robokassa
from billing import services as billing_services
from billing.selectors import balance_get, ledger_list
from portal.tests.factories import UserFactory
from referrals.models import Referral
from referrals.tests.concurrency import run_at_once
from referrals.tests.factories import ReferralCodeFactory, ReferralFactory


def _callback_params(payment) -> dict:
    out_sum = robokassa.format_amount(payment.amount)
    return {
        "OutSum": out_sum,
        "InvId": str(payment.pk),
        "SignatureValue": robokassa.result_signature(out_sum=out_sum, inv_id=str(payment.pk)),
    }


def _pay(user, amount="500.00"):
    payment = billing_services.payment_create(user=user, amount=Decimal(amount))
    params = _callback_params(payment)
    billing_services.payment_result(params=params)
    return payment, params


@pytest.fixture
def referral(db):
    referrer = UserFactory()
    return ReferralFactory(code=ReferralCodeFactory(user=referrer), referred=UserFactory())


@pytest.mark.django_db
def test_first_topup_pays_the_bonus_once_even_when_the_callback_repeats(referral, settings):
    settings.REFERRAL_BONUS_AMOUNT = "150.00"

    _payment, params = _pay(referral.referred)
    billing_services.payment_result(params=params)  # Robokassa repeats the callback
    billing_services.payment_result(params=params)

    referral.refresh_from_db()
    assert referral.bonus_paid_at is not None
    assert referral.bonus_amount == Decimal("150.00")
    assert balance_get(user=referral.referrer) == Decimal("150.00")
    bonus_entries = [e for e in ledger_list(user=referral.referrer) if e.kind == "referral_bonus"]
    assert len(bonus_entries) == 1

    # A second top-up is not a first top-up: no second bonus.
    _pay(referral.referred, "200.00")
    assert balance_get(user=referral.referrer) == Decimal("150.00")


@pytest.mark.django_db
def test_no_bonus_when_switched_off(referral, settings):
    settings.REFERRAL_BONUS_AMOUNT = "0"
    _pay(referral.referred)
    referral.refresh_from_db()
    assert referral.bonus_paid_at is None
    assert balance_get(user=referral.referrer) == Decimal("0.00")


@pytest.mark.django_db
def test_no_bonus_for_users_without_a_referrer(settings):
    settings.REFERRAL_BONUS_AMOUNT = "100.00"
    loner = UserFactory()
    _pay(loner)
    assert balance_get(user=loner) == Decimal("500.00")
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_bonus_with_the_signal_sent_as_billing_does(referral, settings):
    """The receiver alone: repeated sends inside transactions credit once."""
    from django.db import transaction

    from billing.models import Payment
    from billing.signals import topup_paid

    settings.REFERRAL_BONUS_AMOUNT = "100.00"
    for _ in range(3):
        with transaction.atomic():
            topup_paid.send(sender=Payment, payment=None, user=referral.referred, is_first_topup=True)
    referral.refresh_from_db()
    assert referral.bonus_paid_at is not None
    assert balance_get(user=referral.referrer) == Decimal("100.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_callbacks_pay_one_bonus(settings):
    settings.REFERRAL_BONUS_AMOUNT = "100.00"
    referrer = UserFactory()
    referral = ReferralFactory(code=ReferralCodeFactory(user=referrer), referred=UserFactory())
    payment = billing_services.payment_create(user=referral.referred, amount=Decimal("300.00"))
    params = _callback_params(payment)

    results = run_at_once(lambda: billing_services.payment_result(params=params), [()] * 8)

    errors = [exc for exc in results if exc is not None]
    assert errors == []
    assert balance_get(user=referrer) == Decimal("100.00")
    assert balance_get(user=referral.referred) == Decimal("300.00")
