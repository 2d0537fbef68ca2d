"""API of the journey: the calendar file, services per resource, the client's note, status words."""

import icalendar
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from bookings import services
from bookings.tests.clock import at
from bookings.tests.factories import ResourceFactory
from catalog.tests.factories import ServiceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def client_for(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def booking(user, resource, service):
    return services.booking_create(user=user, resource=resource, service=service, starts_at=at(10), comment="Тихо")


def test_the_booker_downloads_the_booking_as_an_icalendar_event(user, booking, settings):
    settings.SITE_URL = "https://citydesk.example"
    response = client_for(user).get(reverse("api:booking-ics", args=[booking.pk]), HTTP_ACCEPT="text/calendar")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="booking-{booking.pk}.ics"'
    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == at(10) and event.decoded("dtend") == at(11)
    assert str(event["uid"]) == f"booking-{booking.pk}@citydesk.example"
    assert str(event["summary"]) == f"Стрижка — {booking.resource.organization.name}"
    assert str(event["location"]) == "Москва, ул. Ленина, 1"
    assert str(event["url"]) == f"https://citydesk.example/bookings/{booking.pk}/"
    assert str(event["status"]) == "CONFIRMED"
    assert event.walk("VALARM")


def test_a_cancelled_booking_is_a_cancelled_event(user, booking):
    services.booking_cancel(booking=booking, actor=user)
    calendar = icalendar.Calendar.from_ical(client_for(user).get(reverse("api:booking-ics", args=[booking.pk])).content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["status"]) == "CANCELLED" and not event.walk("VALARM")


def test_the_calendar_file_is_for_the_booker_and_accepted_participants_only(user, other_user, booking, api_client):
    url = reverse("api:booking-ics", args=[booking.pk])
    booking.resource.capacity = 4
    booking.resource.save()
    services.booking_invite(booking=booking, actor=user, email=other_user.email)

    assert api_client.get(url).status_code in (401, 403)
    assert client_for(other_user).get(url).status_code == 404  # invited, not yet accepted
    services.booking_accept(booking=booking, user=other_user)
    assert client_for(other_user).get(url).status_code == 200
    assert client_for(booking.resource.organization.owner).get(url).status_code == 404
    stranger = ResourceFactory().organization.owner
    assert client_for(stranger).get(url).status_code == 404


def test_slots_of_a_service_the_resource_does_not_offer_say_so(api_client, resource, service):
    beard = ServiceFactory(organization=resource.organization, name="Борода")
    resource.services.add(service)
    url = reverse("api:resource-slots", args=[resource.pk])
    response = api_client.get(url, {"date": "2026-03-03", "service": beard.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "service_not_offered"
    assert response.json()["detail"] == "Кресло 1 не оказывает услугу «Борода»."
    assert api_client.get(url, {"date": "2026-03-03", "service": service.pk}).status_code == 200


def test_resources_list_their_services_and_owners_set_them(resource, service):
    owner = client_for(resource.organization.owner)
    url = reverse("api:resource-detail", args=[resource.pk])
    assert owner.patch(url, {"services": [service.pk]}, format="json").status_code == 200
    listing = APIClient().get(reverse("api:resource-list"), {"organization": resource.organization_id}).json()
    assert listing["results"][0]["services"] == [service.pk]
    foreign = ServiceFactory()
    refused = owner.patch(url, {"services": [foreign.pk]}, format="json")
    assert refused.status_code == 400
    assert list(resource.services.all()) == [service]


def test_the_resource_list_gives_each_resource_its_services_within_its_page_query(
    resource, service, django_assert_num_queries
):
    organization = resource.organization
    cut = ServiceFactory(organization=organization, name="Борода")
    colour = ServiceFactory(organization=organization, name="Окрашивание")
    resource.services.set([service, cut, colour])
    ResourceFactory.create_batch(5, organization=organization).pop().services.set([colour])
    alone = APIClient().get(reverse("api:resource-detail", args=[resource.pk])).json()
    url = reverse("api:resource-list")

    with django_assert_num_queries(3):  # the organization, the count, the page (its service ids included)
        listing = APIClient().get(url, {"organization": organization.pk, "page_size": 100}).json()

    by_id = {row["id"]: row["services"] for row in listing["results"]}
    assert by_id[resource.pk] == alone["services"] == [s.pk for s in resource.services.all()]
    assert sorted(by_id.values()) == sorted([alone["services"], [colour.pk], *[[]] * 4])


def test_booking_with_a_comment_and_phone_shows_them_to_the_booker_and_the_owner_only(
    user, other_user, resource, service
):
    response = client_for(user).post(
        reverse("api:booking-list"),
        {
            "resource": resource.pk,
            "service": service.pk,
            "starts_at": at(12).isoformat(),
            "comment": "Буду к 12",
            "phone": "8 912 000-11-22",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["comment"], body["phone"], body["status_label"]) == ("Буду к 12", "+79120001122", "вы записаны")
    owner_view = client_for(resource.organization.owner).get(reverse("api:booking-detail", args=[body["id"]])).json()
    assert (owner_view["comment"], owner_view["phone"], owner_view["role"]) == ("Буду к 12", "+79120001122", "owner")
    assert owner_view["status_label"] == "подтверждена"

    bad = client_for(user).post(
        reverse("api:booking-list"),
        {"resource": resource.pk, "service": service.pk, "starts_at": at(14).isoformat(), "phone": "12"},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "phone"
    assert other_user


def test_accepted_participants_see_who_else_takes_part(user, other_user, resource, service):
    resource.capacity = 4
    resource.save()
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    services.booking_invite(booking=booking, actor=user, email=other_user.email)
    url = reverse("api:booking-detail", args=[booking.pk])
    assert client_for(other_user).get(url).json()["participants"] == []  # invited only
    services.booking_accept(booking=booking, user=other_user)
    seen = client_for(other_user).get(url).json()
    assert [p["email"] for p in seen["participants"]] == [other_user.email]
    assert seen["comment"] == "" and seen["phone"] == ""  # the booker's note is for the owner
