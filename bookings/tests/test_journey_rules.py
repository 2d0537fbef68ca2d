"""Rules of the booking journey: who offers which service, the client's note and phone,
the owner told of every booking, what an organization still needs before it is bookable."""

from datetime import time

import pytest

from bookings import selectors, services
from bookings.models import Booking
from bookings.tests.clock import at
from bookings.tests.factories import ResourceFactory, open_every_day
from catalog.models import Organization
from catalog.tests.factories import OrganizationFactory, ServiceFactory
from mailings.models import Notification
from portal import errors

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def beard(organization):
    return ServiceFactory(organization=organization, name="Борода", duration_minutes=30)


# --- who offers what --------------------------------------------------------------------------


def test_a_resource_listing_services_offers_only_those(user, resource, service, beard):
    resource.services.add(service)

    with pytest.raises(errors.ValidationError) as exc:
        services.booking_create(user=user, resource=resource, service=beard, starts_at=at(10))

    assert exc.value.code == "service_not_offered"
    assert exc.value.message == "Кресло 1 не оказывает услугу «Борода»."
    booking = services.booking_create(user=user, resource=resource, service=service, starts_at=at(10))
    assert booking.ends_at == at(11)


def test_a_resource_listing_no_service_offers_every_service_of_its_organization(user, resource, beard):
    booking = services.booking_create(user=user, resource=resource, service=beard, starts_at=at(10))
    assert booking.ends_at == at(10, 30)
    foreign = ServiceFactory(name="Чужая")
    assert not resource.offers(foreign)


def test_resources_offering_a_service(organization, resource, service, beard):
    listing = ResourceFactory(organization=organization, name="Мастер Софья", kind="specialist")
    listing.services.add(service)
    ResourceFactory(organization=organization, name="Выключен", is_active=False)
    ResourceFactory(name="В другой организации")

    assert list(selectors.resources_offering(service=service)) == [resource, listing]
    assert list(selectors.resources_offering(service=beard)) == [resource]


def test_any_available_takes_the_first_free_resource_at_each_time(user, organization, resource, service):
    second = ResourceFactory(organization=organization, name="Кресло 2", kind="specialist")
    services.booking_create(user=user, resource=resource, service=service, starts_at=at(10))

    slots = selectors.service_free_slots(service=service, day=at(10).date())

    by_time = {slot.starts_at: slot.resource for slot in slots}
    assert by_time[at(9)] == resource and by_time[at(10)] == second and by_time[at(11)] == resource
    assert list(by_time) == sorted(by_time)


def test_moving_to_another_specialist_checks_that_they_offer_the_service(user, organization, resource, service):
    other = ResourceFactory(organization=organization, name="Мастер Софья", kind="specialist")
    other.services.add(ServiceFactory(organization=organization, name="Только стрижка бороды"))
    booking = services.booking_create(user=user, resource=resource, service=service, starts_at=at(10))

    with pytest.raises(errors.ValidationError) as exc:
        services.booking_move(booking=booking, actor=user, starts_at=at(12), resource=other)
    assert exc.value.code == "service_not_offered"

    other.services.add(service)
    moved = services.booking_move(booking=booking, actor=user, starts_at=at(12), resource=other)
    assert (moved.resource, moved.starts_at, moved.ends_at) == (other, at(12), at(13))
    with pytest.raises(errors.ValidationError) as exc:
        services.booking_move(booking=booking, actor=user, starts_at=at(14), resource=ResourceFactory())
    assert exc.value.code == "invalid_resource"


# --- the client's note and phone -----------------------------------------------------------------


def test_comment_and_phone_are_kept_and_the_phone_fills_an_empty_profile(user, resource):
    user.phone = ""
    user.save()
    booking = services.booking_create(
        user=user,
        resource=resource,
        starts_at=at(10),
        ends_at=at(11),
        comment="  Буду с ребёнком ",
        phone="8 (912) 000-11-22",
    )
    assert (booking.comment, booking.phone) == ("Буду с ребёнком", "+79120001122")
    user.refresh_from_db()
    assert user.phone == "+79120001122"

    services.booking_create(user=user, resource=resource, starts_at=at(12), ends_at=at(13), phone="+7 999 000-00-00")
    user.refresh_from_db()
    assert user.phone == "+79120001122"  # a phone already in the profile is not overwritten


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"phone": "12"}, "phone"), ({"comment": "я" * 501}, "comment")],
    ids=["bad-phone", "long-comment"],
)
def test_a_bad_note_is_refused_with_its_field(user, resource, fields, field):
    with pytest.raises(errors.ValidationError) as exc:
        services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11), **fields)
    assert exc.value.extra["field"] == field
    assert not Booking.objects.exists()


def test_staff_book_for_a_client_and_nobody_else_can(user, other_user, staff_user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11), actor=staff_user)
    assert booking.user == user
    with pytest.raises(errors.PermissionDenied):
        services.booking_create(user=user, resource=resource, starts_at=at(12), ends_at=at(13), actor=other_user)


# --- owners are told -------------------------------------------------------------------------------


def owner_notices(resource):
    return Notification.objects.filter(user=resource.organization.owner).order_by("pk")


def test_the_owner_is_told_of_a_new_booking_with_the_clients_contact(user, resource, service):
    user.first_name, user.last_name = "Анна", "Смирнова"
    user.save()
    booking = services.booking_create(
        user=user, resource=resource, service=service, starts_at=at(10), comment="Покороче", phone="89120001122"
    )

    notice = owner_notices(resource).get()
    assert notice.kind == "booking_owner_created"
    assert notice.dedupe_key == f"booking:{booking.pk}:owner:{resource.organization.owner_id}:created"
    assert "Анна Смирнова" in notice.subject and "3 марта 2026, 10:00" in notice.subject
    assert "+79120001122" in notice.text and "Покороче" in notice.text and "Стрижка" in notice.text
    assert "Москва, UTC+3" in notice.text
    assert f"/bookings/owner/{resource.organization_id}/?date=2026-03-03" in notice.text


def test_the_owner_is_told_of_each_move_and_of_the_cancellation_once(user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    services.booking_move(booking=booking, actor=user, starts_at=at(12))
    services.booking_move(booking=booking, actor=user, starts_at=at(12))  # the same time again: nothing new
    services.booking_move(booking=booking, actor=user, starts_at=at(15))
    services.booking_cancel(booking=booking, actor=user)
    services.booking_cancel(booking=booking, actor=user)

    kinds = list(owner_notices(resource).values_list("kind", flat=True))
    assert kinds == ["booking_owner_created", "booking_owner_moved", "booking_owner_moved", "booking_owner_cancelled"]
    cancelled = owner_notices(resource).last()
    assert "отменил(а) запись" in cancelled.text


def test_the_owner_is_not_told_of_what_they_did_themselves(user, resource):
    owner = resource.organization.owner
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    services.booking_move(booking=booking, actor=owner, starts_at=at(12))
    services.booking_cancel(booking=booking, actor=owner)
    services.booking_create(user=owner, resource=resource, starts_at=at(15), ends_at=at(16))

    owner_kinds = owner_notices(resource).filter(kind__startswith="booking_owner")
    assert list(owner_kinds.values_list("kind", flat=True)) == ["booking_owner_created"]
    # the client hears about the owner's move and cancellation
    assert set(Notification.objects.filter(user=user).values_list("kind", flat=True)) == {
        "booking_confirmed",
        "booking_cancelled",
    }


# --- is there anything to book? ----------------------------------------------------------------------


def test_bookability_lists_what_the_owner_still_has_to_do(moscow):
    organization = OrganizationFactory(city=moscow, status=Organization.Status.DRAFT, listed_until=None)
    haircut = ServiceFactory(organization=organization, name="Стрижка")

    missing = {step.key for step in selectors.organization_bookability(organization=organization).missing}
    assert missing == {"resources", "service_resources", "hours", "published", "listed"}
    assert not selectors.organization_bookability(organization=organization).is_bookable

    master = ResourceFactory(organization=organization, kind="specialist")
    master.services.add(ServiceFactory(organization=organization, name="Борода"))
    open_every_day(organization, time(10), time(20))
    organization.status = Organization.Status.PUBLISHED
    organization.listed_until = at(10, day=30)
    organization.save()

    bookability = selectors.organization_bookability(organization=organization)
    assert bookability.is_bookable
    assert [step.key for step in bookability.missing] == ["service_resources"]
    assert "Стрижка" in bookability.missing[0].detail
    assert haircut.pk not in bookability.bookable_service_ids

    master.services.add(haircut)
    assert haircut.pk in selectors.organization_bookability(organization=organization).bookable_service_ids


def test_an_organization_without_hours_or_resources_has_no_book_button(organization, resource, service):
    links = selectors.organization_booking_links(organization=organization)
    assert links.url == f"/bookings/organization/{organization.pk}/" and service.pk in links.service_ids

    resource.is_active = False
    resource.save()
    links = selectors.organization_booking_links(organization=organization)
    assert links.url is None and not links.service_ids

    resource.is_active = True
    resource.save()
    organization.opening_hours.all().delete()
    assert selectors.organization_booking_links(organization=organization).url is None
