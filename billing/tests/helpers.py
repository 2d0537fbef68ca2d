"""Assertions shared by the billing tests."""

from decimal import Decimal

from django.db.models import Sum

from billing.models import Balance, LedgerEntry


def assert_ledger_invariant() -> None:
    """Every balance equals the sum of its ledger, and nobody is below zero."""
    sums = {
        row["user_id"]: row["s"] for row in LedgerEntry.objects.values("user_id").annotate(s=Sum("amount")).order_by()
    }
    balances = dict(Balance.objects.values_list("user_id", "amount"))
    for user_id in set(sums) | set(balances):
        assert balances.get(user_id, Decimal(0)) == sums.get(user_id, Decimal(0)), user_id
        assert balances.get(user_id, Decimal(0)) >= 0
