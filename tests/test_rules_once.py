"""The rules that used to be written in several apps, each now in one place (docs/architecture.md,
"Every rule once"): the same answer whichever app or entry point asks."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from billing import services as billing
from billing.models import LedgerEntry
from billing.selectors import balance_get
from billing.tests.factories import PlanFactory
from billing.tests.helpers import fund
from bookings import selectors as booking_selectors
from bookings import services as booking_services
from bookings.models import Booking
from bookings.tests.factories import BookingFactory, ResourceFactory, open_every_day
from catalog import services as catalog_services
from catalog.importing import organizations_import
from catalog.models import Organization
from catalog.selectors import organization_can_manage, organizations_managed_by
from catalog.tests.factories import CityFactory, OrganizationFactory, ServiceFactory
from mailings.models import Notification
from portal import errors
from portal.services import actor_ensure_active
from portal.tests.factories import UserFactory
from support.services import ticket_create

pytestmark = pytest.mark.django_db


# --- who may manage an organization ------------------------------------------------------------


def test_owner_and_staff_manage_nobody_else_does():
    org = OrganizationFactory()
    staff = UserFactory(is_staff=True)
    stranger = UserFactory()
    blocked_owner = OrganizationFactory(owner=UserFactory(is_blocked=True))

    assert organization_can_manage(user=org.owner, organization=org)
    assert organization_can_manage(user=staff, organization=org)
    assert not organization_can_manage(user=stranger, organization=org)
    assert not organization_can_manage(user=blocked_owner.owner, organization=blocked_owner)
    assert not organization_can_manage(user=UserFactory(is_staff=True, is_blocked=True), organization=org)
    assert set(organizations_managed_by(user=org.owner)) == {org}
    assert set(organizations_managed_by(user=staff)) == {org, blocked_owner}
    assert not organizations_managed_by(user=stranger).exists()


def test_staff_get_the_same_answer_in_the_catalog_api_as_in_the_services():
    # The catalog API used to answer 404 to staff while the services let them act.
    org = OrganizationFactory(name="Старое имя", status="draft")
    staff = UserFactory(is_staff=True)
    client = APIClient()
    client.force_login(staff)

    response = client.patch(f"/api/v1/organizations/{org.pk}/", {"name": "Новое имя"}, format="json")

    assert response.status_code == 200, response.content
    org.refresh_from_db()
    assert org.name == "Новое имя" and org.slug == "novoe-imya"
    stranger = APIClient()
    stranger.force_login(UserFactory())
    assert stranger.patch(f"/api/v1/organizations/{org.pk}/", {"name": "x"}, format="json").status_code == 404


def test_staff_buying_a_plan_for_an_owner_charges_the_owner_as_renewals_do():
    # Billing used to refuse staff (NotFound) while catalog and bookings let them manage.
    org = OrganizationFactory(listed_until=None)
    plan = PlanFactory(price=Decimal("990.00"))
    fund(org.owner, "1000")
    staff = UserFactory(is_staff=True)

    subscription = billing.subscription_create(user=staff, organization_id=org.pk, plan_id=plan.pk)

    assert subscription.created_by == staff
    assert balance_get(user=org.owner) == Decimal("10.00")
    assert balance_get(user=staff) == Decimal("0")
    assert LedgerEntry.objects.get(kind="subscription_charge").created_by == staff
    with pytest.raises(errors.NotFound):
        billing.subscription_cancel(user=UserFactory(), subscription_id=subscription.pk)


def test_check_in_follows_the_same_rule():
    start = timezone.now() + timedelta(minutes=10)
    booking = BookingFactory(starts_at=start, ends_at=start + timedelta(hours=1))
    with pytest.raises(errors.PermissionDenied):
        booking_services.booking_check_in(booking=booking, actor=UserFactory())
    checked, already = booking_services.booking_check_in(booking=booking, actor=UserFactory(is_staff=True))
    assert checked.status == Booking.Status.CHECKED_IN and not already


# --- the acting user must not be blocked ---------------------------------------------------------


def test_a_blocked_actor_is_refused_the_same_way_everywhere():
    blocked = UserFactory(is_blocked=True)
    resource = ResourceFactory()
    open_every_day(resource.organization)

    with pytest.raises(errors.UserBlocked):
        actor_ensure_active(blocked)
    attempts = [
        lambda: catalog_services.organization_create(owner=blocked, name="Х", city=CityFactory()),
        lambda: booking_services.booking_create(
            user=blocked, resource=resource, starts_at=timezone.now() + timedelta(days=1), ends_at=None
        ),
        lambda: ticket_create(user=blocked, subject="Тема", text="Текст"),
        lambda: billing.subscription_create(user=blocked, organization_id=0, plan_id=0),
    ]
    for attempt in attempts:
        with pytest.raises(errors.UserBlocked) as caught:
            attempt()
        assert caught.value.code == "user_blocked"


def test_an_anonymous_actor_is_refused():
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(errors.PermissionDenied) as caught:
        actor_ensure_active(AnonymousUser())
    assert caught.value.code == "not_authenticated"


# --- phones: one rule in every app --------------------------------------------------------------


def test_organizations_take_international_numbers_like_profiles_do():
    # catalog/validators.py used to accept Russian numbers only, the profile any country's.
    owner = UserFactory()
    client = APIClient()
    client.force_login(owner)
    city = CityFactory()

    response = client.post(
        "/api/v1/organizations/", {"name": "Лондон", "city": city.pk, "phone": "+44 20 7946 0958"}, format="json"
    )
    profile = client.patch("/api/v1/me/", {"phone": "+44 20 7946 0958"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "+442079460958" == profile.json()["phone"]


def test_the_csv_import_uses_the_same_phone_rule():
    CityFactory()
    csv = (
        "external_id,name,city,phone\n"
        "x-1,Первая,Москва,8 (999) 123-45-67\n"
        "x-2,Вторая,Москва,+44 20 7946 0958\n"
        "x-3,Третья,Москва,12-34\n"
    )

    report = organizations_import(data=csv.encode(), default_owner=UserFactory())

    phones = dict(Organization.objects.filter(external_id__startswith="x-").values_list("external_id", "phone"))
    assert phones == {"x-1": "+79991234567", "x-2": "+442079460958"}
    assert [error["line"] for error in report.errors] == [4]


# --- money and dates in notifications ---------------------------------------------------------------


def test_renewal_notice_shows_money_and_time_as_the_pages_do():
    # Renewal messages used Moscow time and "990.00 ₽"; the pages the city's zone and "990 ₽".
    city = CityFactory(slug="novosibirsk", name="Новосибирск", timezone="Asia/Novosibirsk")
    org = OrganizationFactory(city=city, listed_until=None)
    plan = PlanFactory(price=Decimal("1990.00"), period_months=1)
    fund(org.owner, "5000")
    start = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.get_default_timezone())  # 13:00 in Novosibirsk
    with time_machine.travel(start, tick=False):
        subscription = billing.subscription_create(user=org.owner, organization_id=org.pk, plan_id=plan.pk)
    with time_machine.travel(subscription.current_period_end + timedelta(minutes=1), tick=False):
        billing.subscriptions_renew_due()

    notice = Notification.objects.get(kind="subscription_renewed")
    assert "1\u00a0990\u00a0₽" in notice.text
    assert "1 мая 2026, 13:00" in notice.text
    assert "990.00" not in notice.text


# --- named status sets and the slot length --------------------------------------------------------


def test_the_no_overlap_constraint_covers_the_active_statuses():
    constraint = next(c for c in Booking._meta.constraints if c.name == "booking_no_overlap")
    (_lookup, statuses), *_ = constraint.condition.children
    assert set(statuses) == set(Booking.ACTIVE_STATUSES)
    assert set(Booking.UPCOMING_STATUSES) < set(Booking.ACTIVE_STATUSES)


def test_slot_length_is_one_rule_for_the_page_and_the_api():
    resource = ResourceFactory()
    service = ServiceFactory(organization=resource.organization, duration_minutes=45)
    foreign = ServiceFactory(duration_minutes=30)
    moving = BookingFactory(resource=resource, service=None)
    moving_length = int((moving.ends_at - moving.starts_at).total_seconds() // 60)

    assert booking_selectors.slot_length(resource=resource).duration_minutes == 60
    assert booking_selectors.slot_length(resource=resource, duration_minutes=90).step_minutes == 30
    length = booking_selectors.slot_length(resource=resource, service=service.pk)
    assert (length.service, length.duration_minutes, length.step_minutes) == (service, 45, 15)
    assert booking_selectors.slot_length(resource=resource, moving=moving).duration_minutes == moving_length
    with pytest.raises(errors.ValidationError) as caught:
        booking_selectors.slot_length(resource=resource, service=foreign)
    assert caught.value.code == "invalid_service"
