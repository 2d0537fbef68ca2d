from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing import services, tasks
from billing.models import LedgerEntry, Subscription
from billing.selectors import balance_get, users_with_active_subscription
from billing.tests.factories import PlanFactory
from billing.tests.helpers import assert_ledger_invariant, fund, run_concurrently
from catalog.models import Organization
from catalog.tests.factories import OrganizationFactory
from mailings.models import Notification
from portal import errors
from portal.tests.factories import UserFactory

MSK = timezone.get_default_timezone()
START = datetime(2026, 3, 1, 12, 0, tzinfo=MSK)


def unlisted_org(**kwargs):
    return OrganizationFactory(listed_until=None, **kwargs)


def bought_at_start(plan, *, funds: str):
    """An unlisted organization whose owner, given ``funds``, bought ``plan`` at START."""
    org = unlisted_org()
    fund(org.owner, funds)
    with time_machine.travel(START, tick=False):
        sub = services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)
    return org, sub


@pytest.fixture
def plan(db):
    return PlanFactory(price=Decimal("990.00"), period_months=1)


@pytest.mark.django_db
def test_buying_charges_and_lists_the_organization(plan):
    org = unlisted_org()
    fund(org.owner, "1000")
    assert not Organization.objects.visible().filter(pk=org.pk).exists()

    sub = services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)

    org.refresh_from_db()
    assert sub.status == "active" and sub.auto_renew
    assert org.listed_until == sub.current_period_end
    assert sub.current_period_end - sub.current_period_start >= timedelta(days=28)
    assert Organization.objects.visible().filter(pk=org.pk).exists()
    assert balance_get(user=org.owner) == Decimal("10.00")
    charge = LedgerEntry.objects.get(kind="subscription_charge")
    assert charge.amount == Decimal("-990.00") and charge.content_object == sub
    assert list(users_with_active_subscription()) == [org.owner]
    assert_ledger_invariant()


@pytest.mark.django_db
def test_buying_without_money_is_insufficient_funds_and_changes_nothing(plan):
    org = unlisted_org()
    fund(org.owner, "989.99")

    with pytest.raises(errors.InsufficientFunds):
        services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)

    org.refresh_from_db()
    assert org.listed_until is None
    assert not Subscription.objects.exists()
    assert balance_get(user=org.owner) == Decimal("989.99")
    assert_ledger_invariant()


@pytest.mark.django_db
def test_cannot_buy_for_someone_elses_organization(plan):
    org = unlisted_org()
    stranger = UserFactory()
    fund(stranger, "5000")
    with pytest.raises(errors.NotFound):
        services.subscription_create(user=stranger, organization_id=org.pk, plan_id=plan.pk)
    assert balance_get(user=stranger) == Decimal("5000.00")


@pytest.mark.django_db
def test_one_active_subscription_per_organization(plan):
    org = unlisted_org()
    fund(org.owner, "5000")
    services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)
    with pytest.raises(errors.Conflict):
        services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)
    assert balance_get(user=org.owner) == Decimal("4010.00")


@pytest.mark.django_db
def test_inactive_plan_cannot_be_bought(plan):
    plan.is_active = False
    plan.save()
    org = unlisted_org()
    fund(org.owner, "5000")
    with pytest.raises(errors.ValidationError):
        services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)


@pytest.mark.django_db
def test_cancel_keeps_listing_until_period_end_and_a_new_purchase_starts_after_it(plan):
    org = unlisted_org()
    fund(org.owner, "5000")
    with time_machine.travel(START, tick=False):
        sub = services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)
        services.subscription_cancel(user=org.owner, subscription_id=sub.pk)
        sub.refresh_from_db()
        assert sub.status == "cancelled" and not sub.auto_renew
        assert Organization.objects.visible().filter(pk=org.pk).exists()
        with pytest.raises(errors.Conflict):
            services.subscription_cancel(user=org.owner, subscription_id=sub.pk)

        again = services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)
        assert again.current_period_start == sub.current_period_end

    with time_machine.travel(sub.current_period_end + timedelta(hours=1), tick=False):
        tasks.renew_subscriptions.delay()  # the cancelled one is not charged again
        assert Organization.objects.visible().filter(pk=org.pk).exists()
    assert LedgerEntry.objects.filter(kind="subscription_charge").count() == 2


@pytest.mark.django_db
def test_cancel_of_someone_elses_subscription_is_not_found(plan):
    org = unlisted_org()
    fund(org.owner, "5000")
    sub = services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)
    with pytest.raises(errors.NotFound):
        services.subscription_cancel(user=UserFactory(), subscription_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == "active"


@pytest.mark.django_db
def test_renewal_charges_once_per_period_even_when_the_task_runs_twice(plan):
    org, sub = bought_at_start(plan, funds="2000")
    first_end = sub.current_period_end

    with time_machine.travel(first_end + timedelta(minutes=5), tick=False):
        tasks.renew_subscriptions.delay()
        tasks.renew_subscriptions.delay()

    sub.refresh_from_db()
    org.refresh_from_db()
    assert sub.status == "active"
    assert sub.current_period_start == first_end
    assert first_end == datetime(2026, 4, 1, 12, 0, tzinfo=MSK)
    assert sub.current_period_end == datetime(2026, 5, 1, 12, 0, tzinfo=MSK)
    assert org.listed_until == sub.current_period_end
    assert LedgerEntry.objects.filter(kind="subscription_charge").count() == 2
    assert balance_get(user=org.owner) == Decimal("20.00")
    assert Notification.objects.filter(kind="subscription_renewed").count() == 1
    assert_ledger_invariant()


@pytest.mark.django_db
def test_renewal_without_money_expires_and_the_listing_lapses(plan):
    org, sub = bought_at_start(plan, funds="1500")

    with time_machine.travel(sub.current_period_end + timedelta(minutes=5), tick=False):
        tasks.renew_subscriptions.delay()
        tasks.renew_subscriptions.delay()
        assert not Organization.objects.visible().filter(pk=org.pk).exists()
        assert list(users_with_active_subscription()) == []

    sub.refresh_from_db()
    assert sub.status == "expired"
    assert balance_get(user=org.owner) == Decimal("510.00")
    assert LedgerEntry.objects.filter(kind="subscription_charge").count() == 1
    notes = Notification.objects.filter(kind="subscription_expired", user=org.owner)
    assert notes.count() == 1
    assert_ledger_invariant()


@pytest.mark.django_db
def test_auto_renew_off_expires_without_charging(plan):
    _org, sub = bought_at_start(plan, funds="5000")
    Subscription.objects.filter(pk=sub.pk).update(auto_renew=False)
    with time_machine.travel(sub.current_period_end + timedelta(minutes=1), tick=False):
        assert services.subscriptions_renew_due() == {"expired": 1}
    assert LedgerEntry.objects.filter(kind="subscription_charge").count() == 1


@pytest.mark.django_db
def test_subscription_not_yet_due_is_left_alone(plan):
    bought_at_start(plan, funds="5000")
    with time_machine.travel(START + timedelta(days=20), tick=False):
        assert services.subscriptions_renew_due() == {}


@pytest.mark.django_db
def test_reminders_three_days_and_one_day_before_once_each(plan):
    org, sub = bought_at_start(plan, funds="1000")  # enough for the purchase, not for the renewal
    end = sub.current_period_end

    def run_at(moment):
        with time_machine.travel(moment, tick=False):
            tasks.remind_expiring_subscriptions.delay()
            tasks.remind_expiring_subscriptions.delay()

    run_at(end - timedelta(days=5))
    assert not Notification.objects.filter(kind="subscription_expiring").exists()
    run_at(end - timedelta(days=2, hours=20))
    run_at(end - timedelta(days=1, hours=20))
    run_at(end - timedelta(hours=20))
    notes = Notification.objects.filter(kind="subscription_expiring", user=org.owner).order_by("pk")
    assert [n.dedupe_key.rsplit(":", 1)[1] for n in notes] == ["3d", "1d"]
    assert "3" in notes[0].subject


@pytest.mark.django_db
def test_no_reminder_when_auto_renew_will_succeed(plan):
    _org, sub = bought_at_start(plan, funds="3000")
    with time_machine.travel(sub.current_period_end - timedelta(days=2), tick=False):
        assert services.subscriptions_remind_expiring() == 0


@pytest.mark.django_db
def test_reminder_when_auto_renew_is_off_even_with_money(plan):
    org = unlisted_org()
    fund(org.owner, "3000")
    with time_machine.travel(START, tick=False):
        sub = services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)
        services.subscription_cancel(user=org.owner, subscription_id=sub.pk)
    with time_machine.travel(sub.current_period_end - timedelta(hours=12), tick=False):
        assert services.subscriptions_remind_expiring() == 1
        assert services.subscriptions_remind_expiring() == 0


@pytest.mark.django_db
def test_no_reminder_for_a_cancelled_subscription_already_followed_by_a_new_one(plan):
    org = unlisted_org()
    fund(org.owner, "3000")
    with time_machine.travel(START, tick=False):
        sub = services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)
        services.subscription_cancel(user=org.owner, subscription_id=sub.pk)
        services.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)
    with time_machine.travel(sub.current_period_end - timedelta(hours=12), tick=False):
        assert services.subscriptions_remind_expiring() == 0
    assert not Notification.objects.filter(kind="subscription_expiring").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_purchases_against_a_balance_for_ten():
    plan = PlanFactory(price=Decimal("100.00"))
    owner = UserFactory()
    orgs = [unlisted_org(owner=owner) for _ in range(50)]
    fund(owner, "1000.00")
    outcomes = []

    def buy(org):
        try:
            services.subscription_create(user=owner, organization_id=org.pk, plan_id=plan.pk)
            outcomes.append("ok")
        except errors.InsufficientFunds:
            outcomes.append("insufficient")

    run_concurrently(buy, [(org,) for org in orgs])

    assert outcomes.count("ok") == 10
    assert outcomes.count("insufficient") == 40
    assert balance_get(user=owner) == Decimal("0.00")
    assert Subscription.objects.count() == 10
    assert Organization.objects.visible().filter(owner=owner).count() == 10
    assert_ledger_invariant()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_renewal_runs_charge_once():
    plan = PlanFactory(price=Decimal("100.00"))
    owner = UserFactory()
    fund(owner, "1000.00")
    orgs = [unlisted_org(owner=owner) for _ in range(5)]
    with time_machine.travel(START, tick=False):
        for org in orgs:
            services.subscription_create(user=owner, organization_id=org.pk, plan_id=plan.pk)
    due = START + timedelta(days=40)

    run_concurrently(lambda: services.subscriptions_renew_due(now=due), [(), ()])

    assert LedgerEntry.objects.filter(kind="subscription_charge").count() == 10
    assert balance_get(user=owner) == Decimal("0.00")
    assert_ledger_invariant()
