"""portal.signals.user_erasing in billing: renewals stop, the ledger stays."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing import services
from billing.models import Balance, LedgerEntry, Subscription
from billing.tests.factories import PlanFactory
from billing.tests.helpers import assert_ledger_invariant, fund
from catalog.tests.factories import OrganizationFactory
from portal.services import user_delete

pytestmark = pytest.mark.django_db


def test_subscriptions_stop_renewing_and_the_ledger_is_kept(user, other_user):
    org = OrganizationFactory(owner=user, listed_until=None)
    theirs = OrganizationFactory(owner=other_user, listed_until=None)
    plan = PlanFactory(price=Decimal("990.00"))
    fund(user, "5000")
    fund(other_user, "5000")
    mine = services.subscription_create(user=user, organization_id=org.pk, plan_id=plan.pk)
    other = services.subscription_create(user=other_user, organization_id=theirs.pk, plan_id=plan.pk)
    ledger = list(LedgerEntry.objects.filter(user=user).values_list("pk", "amount", "kind"))

    user_delete(user=user)

    mine.refresh_from_db()
    assert (mine.status, mine.auto_renew) == (Subscription.Status.CANCELLED, False)
    with time_machine.travel(timezone.now() + timedelta(days=40)):
        services.subscriptions_renew_due()
    assert list(LedgerEntry.objects.filter(user=user).values_list("pk", "amount", "kind")) == ledger
    assert Balance.objects.get(user=user).amount == Decimal("4010.00")
    other.refresh_from_db()
    assert other.status == Subscription.Status.ACTIVE
    assert Balance.objects.get(user=other_user).amount == Decimal("5000.00") - 2 * Decimal("990.00")
    assert_ledger_invariant()
