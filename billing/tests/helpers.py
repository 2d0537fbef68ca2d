"""Set-up and assertions shared by the billing tests."""

import threading
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from billing import services
from billing.models import Balance, LedgerEntry


def robokassa_test_shop(settings) -> None:
    """The Robokassa shop the tests sign callbacks for (MD5, test mode)."""
    settings.ROBOKASSA_LOGIN = "shop"
    settings.ROBOKASSA_PASSWORD1 = "pass-one"
    settings.ROBOKASSA_PASSWORD2 = "pass-two"
    settings.ROBOKASSA_HASH = "md5"
    settings.ROBOKASSA_IS_TEST = True


def fund(user, amount) -> None:
    """Put ``amount`` on the user's balance as a top-up (through the ledger service)."""
    services.balance_credit(user=user, amount=Decimal(amount), kind="topup")


def run_concurrently(target: Callable, calls: Sequence[tuple]) -> None:
    """Run ``target(*args)`` for every args tuple in its own thread, all released at once.

    Each thread closes its own database connection when done.
    """
    barrier = threading.Barrier(len(calls))

    def run(args):
        try:
            barrier.wait()
            target(*args)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(args,)) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def assert_ledger_invariant() -> None:
    """Every balance equals the sum of its ledger, and nobody is below zero."""
    sums = {
        row["user_id"]: row["s"] for row in LedgerEntry.objects.values("user_id").annotate(s=Sum("amount")).order_by()
    }
    balances = dict(Balance.objects.values_list("user_id", "amount"))
    for user_id in set(sums) | set(balances):
        assert balances.get(user_id, Decimal(0)) == sums.get(user_id, Decimal(0)), user_id
        assert balances.get(user_id, Decimal(0)) >= 0
