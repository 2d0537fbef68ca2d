"""Payments that end: an unpaid top-up expires, the user sees it and can pay again;
the fake payment page always leads back; messages say what really happened."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing import services, tasks
from billing.models import Payment
from billing.selectors import balance_get
from billing.tests.factories import PlanFactory
from billing.tests.helpers import fund, robokassa_test_shop
from billing.tests.test_robokassa import result_params
from catalog.models import Organization
from catalog.tests.factories import OrganizationFactory
from mailings.models import Notification
from portal.schedule import SCHEDULE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _robokassa(settings):
    robokassa_test_shop(settings)
    settings.ROBOKASSA_PAYMENT_URL = ""
    settings.ROBOKASSA_PENDING_TTL = 60


def _result(payment):
    return result_params(payment, out_sum=f"{payment.amount:.6f}")


def test_a_pending_top_up_expires_after_the_set_time(user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old = services.payment_create(user=user, amount="500")
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        young = services.payment_create(user=user, amount="700")
        paid = services.payment_create(user=user, amount="900")
    services.payment_result(params=_result(paid))

    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert services.payments_expire_pending() == 1
        assert services.payments_expire_pending() == 0  # a second beat run changes nothing

    statuses = {p.pk: p.status for p in Payment.objects.all()}
    assert statuses == {old.pk: "expired", young.pk: "pending", paid.pk: "paid"}
    assert Payment.objects.get(pk=old.pk).expired_at == start + timedelta(minutes=61)


def test_the_ttl_is_a_setting(user, settings):
    settings.ROBOKASSA_PENDING_TTL = 5
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        payment = services.payment_create(user=user, amount="500")
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        tasks.expire_pending_payments.delay()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED


def test_beat_runs_the_expiry_from_the_schedule_declared_in_code():
    entry = next(e for e in SCHEDULE if e.task == "billing.tasks.expire_pending_payments")
    assert entry.when == {"interval": (5, "minutes")}


def test_a_payment_that_arrives_after_the_expiry_is_still_credited(user):
    """The user paid at the last minute and Robokassa's notice came late: the money was taken, so it counts."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        payment = services.payment_create(user=user, amount="500")
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        services.payments_expire_pending()
        services.payment_result(params=_result(payment))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID
    assert balance_get(user=user) == Decimal("500.00")


def test_the_user_sees_the_expired_top_up_and_pays_again(client, user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        payment = services.payment_create(user=user, amount="750")
    client.force_login(user)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        pending = client.get("/billing/").content.decode()
    assert "ожидает" in pending and "Перейти к оплате" in pending

    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        services.payments_expire_pending()
        page = client.get("/billing/").content.decode()
        fragment = client.get(f"/billing/payments/{payment.pk}/status/").content.decode()
    assert "не оплачен — срок истёк" in page
    assert 'data-testid="retry-topup"' in page and 'value="750.00"' in page
    # the success page's status (polled while pending) stops polling and offers to pay again
    assert "hx-get" not in fragment and "срок оплаты истёк" in fragment and 'data-testid="retry-topup"' in fragment

    retry = client.post("/billing/topup/", {"amount": "750.00"})
    assert retry.status_code == 302 and retry["Location"].startswith("https://auth.robokassa.ru/")
    assert list(Payment.objects.order_by("pk").values_list("status", "amount")) == [
        ("expired", Decimal("750.00")),
        ("pending", Decimal("750.00")),
    ]


def test_the_fail_page_offers_to_pay_again_only_for_the_users_own_payment(client, user, other_user):
    payment = services.payment_create(user=user, amount="300")
    client.force_login(other_user)
    foreign = client.get("/billing/robokassa/fail/", {"InvId": payment.pk, "OutSum": "300.00"}).content.decode()
    assert "retry-topup" not in foreign and "/billing/" in foreign
    client.force_login(user)
    own = client.get("/billing/robokassa/fail/", {"InvId": payment.pk, "OutSum": "300.00"}).content.decode()
    assert 'data-testid="retry-topup"' in own and 'value="300.00"' in own
    garbage = client.get("/billing/robokassa/fail/", {"InvId": "x' OR 1=1"})
    assert garbage.status_code == 200 and "retry-topup" not in garbage.content.decode()


def test_the_fake_payment_page_always_leads_back(client, settings, user):
    settings.ROBOKASSA_PAYMENT_URL = "/billing/robokassa/fake/"
    client.force_login(user)
    forged = client.get(
        "/billing/robokassa/fake/",
        {"MerchantLogin": "shop", "OutSum": "1.00", "InvId": "1", "SignatureValue": "nope"},
    )
    assert forged.status_code == 400 and 'data-testid="fake-back"' in forged.content.decode()

    # the shop cannot be reached (SITE_URL points elsewhere): the error says so and leads back
    settings.SITE_URL = "http://127.0.0.1:9"
    payment = services.payment_create(user=user, amount="500")
    link = services.payment_url_for(payment)
    page = client.get(link)
    assert page.status_code == 200
    hidden = page.context["hidden"]
    unreachable = client.post("/billing/robokassa/fake/", {**hidden, "action": "pay"})
    assert unreachable.status_code == 502
    assert 'data-testid="fake-back"' in unreachable.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_buying_a_subscription_for_a_draft_does_not_say_it_is_in_the_catalog(client, user):
    draft = OrganizationFactory(owner=user, status=Organization.Status.DRAFT, listed_until=None, name="Черновик")
    plan = PlanFactory(name="Старт")
    fund(user, "5000")
    client.force_login(user)
    response = client.post(f"/billing/subscribe/{draft.pk}/", {"plan": plan.pk}, follow=True)
    html = response.content.decode()
    assert "показывается в каталоге" not in html
    assert "«Черновик» — черновик: опубликуйте организацию" in html

    hidden = OrganizationFactory(owner=user, status=Organization.Status.HIDDEN, listed_until=None, name="Скрытая")
    html = client.post(f"/billing/subscribe/{hidden.pk}/", {"plan": plan.pk}, follow=True).content.decode()
    assert "показывается в каталоге" not in html and "«Скрытая» скрыта" in html

    listed = OrganizationFactory(owner=user, listed_until=None, name="Открытая")
    html = client.post(f"/billing/subscribe/{listed.pk}/", {"plan": plan.pk}, follow=True).content.decode()
    assert "«Открытая» показывается в каталоге" in html


def test_a_renewal_notice_for_a_draft_does_not_say_it_is_in_the_catalog(user):
    draft = OrganizationFactory(owner=user, status=Organization.Status.DRAFT, listed_until=None)
    plan = PlanFactory(price=Decimal("100"))
    fund(user, "1000")
    subscription = services.subscription_create(user=user, organization_id=draft.pk, plan_id=plan.pk)
    with time_machine.travel(subscription.current_period_end + timedelta(minutes=1), tick=False):
        assert services.subscription_renew(subscription_id=subscription.pk) == "renewed"
    notice = Notification.objects.get(kind="subscription_renewed")
    assert "опубликуйте организацию" in notice.text and "в каталоге до" not in notice.text
