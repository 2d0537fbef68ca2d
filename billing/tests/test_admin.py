from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import services, tasks
from billing.models import LedgerEntry, PaymentCallback, RevenueDay
from billing.selectors import balance_get, revenue_dashboard
from billing.tests.factories import PaymentFactory, PlanFactory
from billing.tests.helpers import assert_ledger_invariant
from catalog.tests.factories import OrganizationFactory
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
MSK = timezone.get_default_timezone()


def test_grant_form_records_the_staff_user_and_reason(reauthenticated_staff_client, staff_user, user):
    url = "/admin/billing/ledgerentry/grant/"
    assert reauthenticated_staff_client.get(f"{url}?user={user.pk}").status_code == 200

    response = reauthenticated_staff_client.post(
        url, {"user": user.pk, "amount": "250.00", "reason": "Компенсация за сбой"}
    )

    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.created_by, entry.description) == (
        "grant",
        Decimal("250.00"),
        staff_user,
        "Компенсация за сбой",
    )
    assert balance_get(user=user) == Decimal("250.00")


def test_grant_correction_below_zero_is_refused(reauthenticated_staff_client, user):
    response = reauthenticated_staff_client.post(
        "/admin/billing/ledgerentry/grant/", {"user": user.pk, "amount": "-10", "reason": "Исправление"}
    )
    assert response.status_code == 400
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("data", [{"amount": "10"}, {"amount": "abc", "reason": "x"}, {"amount": "0", "reason": "x"}])
def test_grant_form_bad_input(reauthenticated_staff_client, user, data):
    response = reauthenticated_staff_client.post("/admin/billing/ledgerentry/grant/", {"user": user.pk, **data})
    assert response.status_code == 400
    assert not LedgerEntry.objects.exists()


def test_grant_page_is_staff_only(client, user):
    client.force_login(user)
    response = client.get("/admin/billing/ledgerentry/grant/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_user_admin_action_leads_to_the_grant_form(staff_client, user):
    response = staff_client.post("/admin/portal/user/", {"action": "grant_balance", "_selected_action": [user.pk]})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/admin/billing/ledgerentry/grant/?user={user.pk}")


def test_the_grant_action_comes_through_portals_hook_not_a_patch():
    # billing/admin.py used to rewrite portal's UserAdmin.actions when imported.
    from billing.admin import grant_balance
    from portal.admin import UserAdmin, _user_actions

    assert grant_balance in _user_actions
    assert grant_balance not in UserAdmin.actions


@pytest.mark.parametrize(
    "url",
    [
        "/admin/billing/balance/",
        "/admin/billing/ledgerentry/",
        "/admin/billing/payment/",
        "/admin/billing/paymentcallback/",
        "/admin/billing/plan/",
        "/admin/billing/subscription/",
        "/admin/billing/revenuereport/",
    ],
)
def test_admin_pages_open(staff_client, url):
    assert staff_client.get(url).status_code == 200


def test_admin_lists_cost_the_same_number_of_queries_for_more_rows(staff_client):
    def queries_for(url):
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        return len(queries)

    def add_rows():
        for _ in range(3):
            payment = PaymentFactory()
            PaymentCallback.objects.create(payment=payment, kind="result", params={"InvId": str(payment.pk)})
            services.balance_grant(user=payment.user, amount=Decimal("10"), reason="Бонус", created_by=staff_user)
            org = OrganizationFactory(owner=payment.user, listed_until=None)
            services.subscription_create(user=payment.user, organization_id=org.pk, plan_id=plan.pk)

    staff_user = UserFactory(is_staff=True)
    plan = PlanFactory(price=Decimal("10"))
    urls = [
        "/admin/billing/balance/",
        "/admin/billing/ledgerentry/",
        "/admin/billing/payment/",
        "/admin/billing/paymentcallback/",
        "/admin/billing/subscription/",
    ]
    add_rows()
    before = {url: queries_for(url) for url in urls}
    add_rows()
    assert {url: queries_for(url) for url in urls} == before


def test_dashboard_numbers_on_known_data(staff_client, staff_user):
    # given: activity on three known days and today
    alice, bob = UserFactory(), UserFactory()
    plan = PlanFactory(price=Decimal("990.00"))
    org = OrganizationFactory(owner=alice, listed_until=None)
    now = datetime(2026, 6, 15, 15, 0, tzinfo=MSK)
    with time_machine.travel(datetime(2026, 5, 10, 10, 0, tzinfo=MSK), tick=False):
        services.balance_credit(user=alice, amount=Decimal("1000"), kind="topup")
        services.balance_credit(user=bob, amount=Decimal("500"), kind="topup")
    with time_machine.travel(datetime(2026, 5, 10, 23, 30, tzinfo=MSK), tick=False):  # still May 10 in Moscow
        services.subscription_create(user=alice, organization_id=org.pk, plan_id=plan.pk)
    with time_machine.travel(datetime(2026, 6, 1, 9, 0, tzinfo=MSK), tick=False):
        services.balance_grant(user=bob, amount=Decimal("200"), reason="Бонус", created_by=staff_user)
        services.balance_grant(user=bob, amount=Decimal("-50"), reason="Исправление", created_by=staff_user)
    with time_machine.travel(datetime(2026, 6, 14, 12, 0, tzinfo=MSK), tick=False):
        tasks.snapshot_revenue.delay()
    with time_machine.travel(now, tick=False):
        services.balance_credit(user=bob, amount=Decimal("300"), kind="topup")  # today, not snapshotted yet

        # when
        data = revenue_dashboard()
        response = staff_client.get("/admin/billing/revenuereport/")

    # then
    may10 = RevenueDay.objects.get(date=datetime(2026, 5, 10).date())
    assert (may10.topups, may10.topups_count, may10.charges, may10.new_subscriptions) == (
        Decimal("1500.00"),
        2,
        Decimal("990.00"),
        1,
    )
    assert RevenueDay.objects.get(date=datetime(2026, 6, 1).date()).grants == Decimal("150.00")
    assert data["total"]["topups"] == Decimal("1800.00")
    assert data["total"]["charges"] == Decimal("990.00")
    assert data["total"]["grants"] == Decimal("150.00")
    assert data["total"]["average_check"] == Decimal("600.00")
    assert data["total"]["new_subscriptions"] == 1
    days = {d["date"]: d for d in data["daily"]}
    assert len(data["daily"]) == 90
    assert days[now.date()]["topups"] == Decimal("300")
    assert days[datetime(2026, 5, 10).date()]["charges"] == Decimal("990.00")
    months = {m["month"]: m for m in data["monthly"]}
    assert len(data["monthly"]) == 12
    assert months[datetime(2026, 5, 1).date()]["topups"] == Decimal("1500.00")
    assert months[datetime(2026, 6, 1).date()]["topups"] == Decimal("300.00")
    assert months[datetime(2026, 6, 1).date()]["grants"] == Decimal("150.00")
    assert data["active_subscriptions"] == 0  # bought in May for a month: over by mid-June
    assert response.status_code == 200
    assert 'data-metric="topups">1\xa0800\xa0₽' in response.content.decode()
    assert_ledger_invariant()


def test_snapshot_twice_changes_nothing_and_reads_few_rows(django_assert_max_num_queries, staff_user):
    user = UserFactory()
    base = datetime(2026, 1, 1, 12, 0, tzinfo=MSK)
    for day in range(120):
        with time_machine.travel(base + timedelta(days=day), tick=False):
            services.balance_credit(user=user, amount=Decimal("10"), kind="topup")
    with time_machine.travel(base + timedelta(days=130), tick=False):
        services.revenue_snapshot()
        first = list(RevenueDay.objects.values_list("date", "topups"))
        services.revenue_snapshot()
        assert list(RevenueDay.objects.values_list("date", "topups")) == first
        assert len(first) == 120
        with django_assert_max_num_queries(10):
            data = revenue_dashboard()
    assert data["total"]["topups"] == Decimal("1200.00")


def test_dashboard_for_a_given_day_counts_that_days_ledger_live():
    user = UserFactory()
    day = datetime(2026, 6, 15, 12, 0, tzinfo=MSK)
    with time_machine.travel(day, tick=False):
        services.balance_credit(user=user, amount=Decimal("300"), kind="topup")

    data = revenue_dashboard(today=day.date())  # asked later, without a snapshot of that day

    assert data["daily"][-1] == {
        "date": day.date(),
        "topups": Decimal("300.00"),
        "charges": Decimal(0),
        "grants": Decimal(0),
        "new_subscriptions": 0,
        "topups_count": 1,
    }
    assert data["total"]["topups"] == Decimal("300.00")


def test_granting_asks_for_the_password_again_then_grants(staff_client, staff_user, user):
    from portal.models import SecurityEvent
    from portal.tests.factories import USER_PASSWORD

    url = "/admin/billing/ledgerentry/grant/"
    assert staff_client.get(f"{url}?user={user.pk}").status_code == 200  # the form opens freely

    response = staff_client.post(url, {"user": user.pk, "amount": "500.00", "reason": "Компенсация"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Fadmin%2Fbilling%2Fledgerentry%2Fgrant%2F"
    assert not LedgerEntry.objects.exists()
    assert staff_client.post(response["Location"], {"password": "wrong"}).status_code == 200
    assert not LedgerEntry.objects.exists()

    done = staff_client.post(response["Location"], {"password": USER_PASSWORD})

    assert done.status_code == 302
    assert done["Location"] == f"/admin/billing/ledgerentry/?user__id__exact={user.pk}"
    assert balance_get(user=user) == Decimal("500.00")
    [event] = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.BALANCE_GRANTED)
    assert (event.user, event.actor, event.ip) == (user, staff_user, "127.0.0.1")
    assert event.details == {"amount": "500.00", "balance_after": "500.00", "reason": "Компенсация"}


def test_a_fresh_reauthentication_lasts_the_configured_time(staff_client, staff_user, user, settings):
    from portal.tests.mfa import session_reauthenticate

    url = "/admin/billing/ledgerentry/grant/"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        session_reauthenticate(staff_client, staff_user)
        assert staff_client.post(url, {"user": user.pk, "amount": "10", "reason": "a"}).status_code == 302
        assert LedgerEntry.objects.count() == 1

        clock.shift(timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1))
        response = staff_client.post(url, {"user": user.pk, "amount": "10", "reason": "b"})

    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert LedgerEntry.objects.count() == 1
