from decimal import Decimal

import pytest

from billing import services
from billing.models import Balance, LedgerEntry
from billing.selectors import balance_get, ledger_sum
from billing.tests.helpers import assert_ledger_invariant, run_concurrently
from portal import errors
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_credit_then_debit_keeps_balance_equal_to_ledger(user):
    services.balance_credit(user=user, amount=Decimal("500.00"), kind="topup", reference="r1")
    entry = services.balance_debit(user=user, amount=Decimal("120.50"), kind="subscription_charge")

    assert entry.amount == Decimal("-120.50")
    assert entry.balance_after == Decimal("379.50")
    assert balance_get(user=user) == Decimal("379.50") == ledger_sum(user=user)
    assert_ledger_invariant()


def test_balance_of_a_new_user_is_zero(user):
    assert balance_get(user=user) == Decimal("0.00")


def test_debit_beyond_balance_is_insufficient_funds_and_changes_nothing(user):
    services.balance_credit(user=user, amount=Decimal("100"), kind="topup")

    with pytest.raises(errors.InsufficientFunds) as exc:
        services.balance_debit(user=user, amount=Decimal("100.01"), kind="subscription_charge")

    assert exc.value.code == "insufficient_funds"
    assert balance_get(user=user) == Decimal("100.00")
    assert LedgerEntry.objects.filter(user=user).count() == 1
    assert_ledger_invariant()


def test_idempotency_key_returns_the_existing_entry(user):
    first = services.balance_credit(user=user, amount=Decimal("100"), kind="referral_bonus", idempotency_key="ref:1")
    again = services.balance_credit(user=user, amount=Decimal("100"), kind="referral_bonus", idempotency_key="ref:1")

    assert again.pk == first.pk
    assert balance_get(user=user) == Decimal("100.00")
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("func", "kwargs"),
    [
        (services.balance_credit, {"amount": Decimal("0"), "kind": "topup"}),
        (services.balance_credit, {"amount": Decimal("-5"), "kind": "topup"}),
        (services.balance_credit, {"amount": Decimal("1.005"), "kind": "topup"}),
        (services.balance_credit, {"amount": Decimal("10"), "kind": "subscription_charge"}),
        (services.balance_debit, {"amount": Decimal("10"), "kind": "topup"}),
        (services.balance_credit, {"amount": Decimal("1e30"), "kind": "topup"}),
        (services.balance_credit, {"amount": Decimal("10000000000.00"), "kind": "topup"}),
    ],
)
def test_bad_ledger_input_is_rejected(user, func, kwargs):
    with pytest.raises(errors.ValidationError):
        func(user=user, **kwargs)
    assert not LedgerEntry.objects.exists()


def test_ledger_entries_are_append_only(user):
    entry = services.balance_credit(user=user, amount=Decimal("10"), kind="topup")
    entry.amount = Decimal("1000")
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_database_refuses_a_negative_balance(user):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.create(user=user, amount=Decimal("-1"))


def test_grant_positive_and_correction(user, staff_user):
    services.balance_grant(user=user, amount=Decimal("300"), reason="Компенсация", created_by=staff_user)
    entry = services.balance_grant(user=user, amount=Decimal("-100"), reason="Исправление", created_by=staff_user)

    assert entry.kind == "grant"
    assert entry.created_by == staff_user
    assert entry.description == "Исправление"
    assert balance_get(user=user) == Decimal("200.00")
    with pytest.raises(errors.InsufficientFunds):
        services.balance_grant(user=user, amount=Decimal("-200.01"), reason="Слишком много", created_by=staff_user)
    assert balance_get(user=user) == Decimal("200.00")
    assert_ledger_invariant()


def test_grant_needs_reason_and_staff(user, other_user, staff_user):
    with pytest.raises(errors.ValidationError):
        services.balance_grant(user=user, amount=Decimal("10"), reason=" ", created_by=staff_user)
    with pytest.raises(errors.PermissionDenied):
        services.balance_grant(user=user, amount=Decimal("10"), reason="x", created_by=other_user)
    assert not LedgerEntry.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_credits_create_one_balance_row():
    user = UserFactory()
    errors_seen = []

    def credit(i):
        try:
            services.balance_credit(user=user, amount=Decimal("10"), kind="topup", reference=f"t{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors_seen.append(exc)

    run_concurrently(credit, [(i,) for i in range(20)])

    assert errors_seen == []
    assert balance_get(user=user) == Decimal("200.00")
    assert_ledger_invariant()
