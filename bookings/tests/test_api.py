"""The bookings API: availability, slots, bookings, participants, QR, check-in, owners, isolation."""

from datetime import UTC, time

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from bookings import services
from bookings.models import Booking
from bookings.tests.clock import at
from bookings.tests.factories import BookingFactory, ResourceFactory, open_every_day
from catalog.tests.factories import OrganizationFactory, ServiceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def client_for(user):
    client = APIClient()
    client.force_login(user)
    return client


def iso(value):
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_resources_with_availability(api_client, resource, user):
    free = ResourceFactory(organization=resource.organization, name="Кресло 2")
    BookingFactory(resource=resource, starts_at=at(10), ends_at=at(11))
    BookingFactory(resource=free, starts_at=at(10), ends_at=at(11), status=Booking.Status.CANCELLED)
    BookingFactory(resource=free, starts_at=at(11), ends_at=at(12))  # back-to-back with the window

    response = api_client.get(
        reverse("api:resource-list"),
        {"organization": resource.organization_id, "start": iso(at(10, 30)), "end": iso(at(11))},
    )

    assert response.status_code == 200
    rows = {row["id"]: row["available"] for row in response.json()["results"]}
    assert rows == {resource.pk: False, free.pk: True}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"organization": "x"},
        {"organization": 1, "start": "2026-03-03T10:00:00Z"},
        {"organization": 1, "start": "2026-03-03T10:00:00Z", "end": "2026-03-03T09:00:00Z"},
    ],
)
def test_resources_bad_query_is_400(api_client, params):
    assert api_client.get(reverse("api:resource-list"), params).status_code == 400


def test_slots_for_a_service(api_client, resource, service):
    BookingFactory(resource=resource, starts_at=at(10), ends_at=at(11))
    response = api_client.get(
        reverse("api:resource-slots", args=[resource.pk]), {"date": "2026-03-03", "service": service.pk}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "Europe/Moscow" and body["step_minutes"] == 30
    local = [s["local_time"] for s in body["slots"]]
    assert local[0] == "09:00" and "09:30" not in local and "10:00" not in local and "10:30" not in local
    assert "11:00" in local and local[-1] == "20:00"
    assert body["slots"][0]["starts_at"] == "2026-03-03T06:00:00Z"
    bad = api_client.get(reverse("api:resource-slots", args=[resource.pk]), {"date": "03.03.2026"})
    assert bad.status_code == 400
    foreign = ServiceFactory()
    assert (
        api_client.get(
            reverse("api:resource-slots", args=[resource.pk]), {"date": "2026-03-03", "service": foreign.pk}
        ).status_code
        == 400
    )


def test_create_list_detail_move_cancel(user_api, user, resource, service):
    response = user_api.post(
        reverse("api:booking-list"), {"resource": resource.pk, "service": service.pk, "starts_at": iso(at(10))}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "confirmed" and body["role"] == "booker"
    assert body["starts_at_local"] == "2026-03-03T10:00:00+03:00"
    pk = body["id"]

    assert [b["id"] for b in user_api.get(reverse("api:booking-list"), {"when": "upcoming"}).json()["results"]] == [pk]
    assert user_api.get(reverse("api:booking-list"), {"when": "past"}).json()["results"] == []
    assert user_api.get(reverse("api:booking-list"), {"when": "yesterday"}).status_code == 400

    moved = user_api.patch(reverse("api:booking-detail", args=[pk]), {"starts_at": iso(at(12))}, format="json")
    assert moved.status_code == 200 and moved.json()["starts_at_local"] == "2026-03-03T12:00:00+03:00"

    cancelled = user_api.post(reverse("api:booking-cancel", args=[pk]))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert [b["id"] for b in user_api.get(reverse("api:booking-list"), {"when": "past"}).json()["results"]] == [pk]


def test_create_conflict_is_409_with_conflict_time(user_api, other_user, resource):
    services.booking_create(user=other_user, resource=resource, starts_at=at(10), ends_at=at(11))
    response = user_api.post(
        reverse("api:booking-list"),
        {"resource": resource.pk, "starts_at": iso(at(10, 30)), "ends_at": iso(at(11, 30))},
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_taken" and "10:00" in body["detail"]
    assert body["conflict_starts_at"] == "2026-03-03T07:00:00+00:00"
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"resource": 999999, "starts_at": "2026-03-03T07:00:00Z", "ends_at": "2026-03-03T08:00:00Z"},
        {"resource": "RES", "starts_at": "2026-03-03T07:00:00Z"},
        {"resource": None, "starts_at": "tomorrow"},
    ],
)
def test_create_bad_input_is_400_and_creates_nothing(user_api, resource, payload):
    response = user_api.post(reverse("api:booking-list"), payload, format="json")
    assert response.status_code == 400
    assert Booking.objects.count() == 0


def test_create_outside_hours_and_in_past_are_400(user_api, resource):
    closed = user_api.post(
        reverse("api:booking-list"), {"resource": resource.pk, "starts_at": iso(at(22)), "ends_at": iso(at(23))}
    )
    past = user_api.post(
        reverse("api:booking-list"),
        {"resource": resource.pk, "starts_at": iso(at(6, day=2)), "ends_at": iso(at(7, day=2))},
    )
    assert (closed.status_code, closed.json()["code"]) == (400, "closed")
    assert (past.status_code, past.json()["code"]) == (400, "in_the_past")
    assert Booking.objects.count() == 0


def test_anonymous_cannot_book(api_client, resource):
    response = api_client.post(
        reverse("api:booking-list"), {"resource": resource.pk, "starts_at": iso(at(10)), "ends_at": iso(at(11))}
    )
    assert response.status_code in (401, 403)
    assert Booking.objects.count() == 0


def test_isolation_between_users(user, other_user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    other = client_for(other_user)
    for name in ("api:booking-detail", "api:booking-qr", "api:booking-participants"):
        assert other.get(reverse(name, args=[booking.pk])).status_code == 404, name
    assert other.patch(reverse("api:booking-detail", args=[booking.pk]), {"starts_at": iso(at(15))}).status_code == 404
    assert other.post(reverse("api:booking-cancel", args=[booking.pk])).status_code == 404
    assert other.post(reverse("api:booking-decline", args=[booking.pk])).status_code == 404
    assert (
        other.post(reverse("api:booking-participants", args=[booking.pk]), {"email": other_user.email}).status_code
        == 404
    )
    assert other.get(reverse("api:booking-list")).json()["results"] == []
    booking.refresh_from_db()
    assert (booking.status, booking.starts_at) == ("confirmed", at(10))


def test_participant_accepts_then_sees_read_only_and_declines(user, other_user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    invited = client_for(user).post(reverse("api:booking-participants", args=[booking.pk]), {"email": other_user.email})
    assert invited.status_code == 202
    guest = client_for(other_user)
    # Invited, not yet taking part: the booking opens (to answer) but is not in the list.
    assert guest.get(reverse("api:booking-list"), {"when": "upcoming"}).json()["results"] == []
    assert guest.get(reverse("api:booking-detail", args=[booking.pk])).json()["invitation"] == "invited"
    accepted = guest.post(reverse("api:booking-accept", args=[booking.pk]))
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    listed = guest.get(reverse("api:booking-list"), {"when": "upcoming"}).json()["results"]
    assert [(b["id"], b["role"], b["can_cancel"], b["invitation"]) for b in listed] == [
        (booking.pk, "participant", False, "accepted")
    ]
    assert guest.get(reverse("api:booking-qr", args=[booking.pk])).status_code == 200
    assert guest.patch(reverse("api:booking-detail", args=[booking.pk]), {"starts_at": iso(at(15))}).status_code == 403
    assert guest.post(reverse("api:booking-cancel", args=[booking.pk])).status_code == 403
    assert guest.post(reverse("api:booking-decline", args=[booking.pk])).json()["status"] == "declined"
    assert guest.get(reverse("api:booking-list")).json()["results"] == []
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_invitation_answer_does_not_tell_whether_the_email_is_registered(user, other_user, resource):
    """Finding 4: 201 with the person's name for a registered email, 400 unknown_user otherwise."""
    from mailings.models import Notification

    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    booker = client_for(user)
    url = reverse("api:booking-participants", args=[booking.pk])

    registered = booker.post(url, {"email": other_user.email})
    unknown = booker.post(url, {"email": "nobody-here@example.com"})

    assert registered.status_code == unknown.status_code == 202
    assert registered.json() == unknown.json()
    assert other_user.get_full_name() not in registered.content.decode()
    # The booker's views of the booking do not tell either: nobody is listed until they accept.
    assert booker.get(url).json() == []
    assert booker.get(reverse("api:booking-detail", args=[booking.pk])).json()["participants"] == []
    # The registered invitee is told through notify; the unknown address gets nothing.
    assert Notification.objects.filter(user=other_user, kind="booking_invitation").count() == 1
    assert Notification.objects.filter(kind="booking_invitation").count() == 1

    client_for(other_user).post(reverse("api:booking-accept", args=[booking.pk]))
    assert [p["email"] for p in booker.get(url).json()] == [other_user.email]


def test_invitations_are_throttled_per_user_across_api_and_page(user, resource, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "invite": "4/hour"},
    }
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    booker = client_for(user)
    url = reverse("api:booking-participants", args=[booking.pk])
    for index in range(2):
        assert booker.post(url, {"email": f"probe{index}@example.com"}).status_code == 202
    for index in range(2):
        page = booker.post(
            reverse("bookings:invite", args=[booking.pk]), {"email": f"page{index}@example.com"}, format="multipart"
        )
        assert page.status_code == 302

    api_refused = booker.post(url, {"email": "probe9@example.com"})
    page_refused = booker.post(
        reverse("bookings:invite", args=[booking.pk]), {"email": "page9@example.com"}, format="multipart"
    )

    assert (api_refused.status_code, api_refused.json()["code"]) == (429, "throttled")
    assert page_refused.status_code == 429
    assert int(page_refused["Retry-After"]) > 0
    # Reading the participants is not an invitation and stays allowed.
    assert booker.get(url).status_code == 200


def test_qr_svg_and_png(user_api, user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    svg = user_api.get(reverse("api:booking-qr", args=[booking.pk]))
    png = user_api.get(reverse("api:booking-qr", args=[booking.pk]), {"format": "png"})
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert user_api.get(reverse("api:booking-qr", args=[booking.pk]), {"format": "gif"}).status_code == 400


def test_check_in_endpoint(user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    owner = client_for(resource.organization.owner)
    token = services.checkin_token(booking)
    url = reverse("api:booking-check-in")
    with time_machine.travel(at(9, 50), tick=False):
        first = owner.post(url, {"token": token})
        second = owner.post(url, {"token": services.checkin_url(booking)})
        forged = owner.post(url, {"token": token[:-3] + "xyz"})
        foreign = client_for(OrganizationFactory().owner).post(url, {"token": token})
        client = client_for(user).post(url, {"token": token})
        empty = owner.post(url, {})
    assert first.status_code == 200 and first.json()["code"] == "checked_in"
    assert second.status_code == 200 and second.json()["code"] == "already_checked_in"
    assert "09:50" in second.json()["detail"]
    assert (forged.status_code, forged.json()["code"]) == (400, "invalid_token")
    assert (foreign.status_code, foreign.json()["code"]) == (403, "foreign_booking")
    assert (client.status_code, client.json()["code"]) == (403, "foreign_booking")
    assert empty.status_code == 400


def test_owner_bookings_isolated_between_organizations(user, resource):
    services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    other_org = OrganizationFactory()
    open_every_day(other_org, time(9), time(21))
    owner = client_for(resource.organization.owner)
    stranger = client_for(other_org.owner)
    mine = owner.get(reverse("api:booking-owned"), {"organization": resource.organization_id, "date": "2026-03-03"})
    assert mine.status_code == 200 and len(mine.json()["results"]) == 1
    assert mine.json()["results"][0]["role"] == "owner"
    assert stranger.get(reverse("api:booking-owned")).json()["results"] == []
    assert stranger.get(reverse("api:booking-owned"), {"organization": resource.organization_id}).status_code == 404


def test_owner_manages_resources_and_hours(resource, other_user):
    owner = client_for(resource.organization.owner)
    created = owner.post(
        reverse("api:resource-list"),
        {"organization": resource.organization_id, "name": "Переговорная", "kind": "room", "capacity": 6,
         "amenities": ["проектор"]},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201 and created.json()["capacity"] == 6
    stranger = client_for(other_user)
    denied = stranger.post(
        reverse("api:resource-list"),
        {"organization": resource.organization_id, "name": "Чужая", "kind": "room"},
        format="json",
    )
    assert denied.status_code == 403
    assert stranger.patch(reverse("api:resource-detail", args=[resource.pk]), {"name": "X"}).status_code == 404
    assert owner.patch(reverse("api:resource-detail", args=[resource.pk]), {"capacity": 0}).status_code == 400
    url = reverse("api:organization-opening-hours", args=[resource.organization_id])
    put = owner.put(url, {"intervals": [{"weekday": 0, "opens_at": "10:00", "closes_at": "14:00"}]}, format="json")
    assert put.status_code == 200
    assert stranger.put(url, {"intervals": []}, format="json").status_code == 404
    assert APIClient().get(url).json() == {
        "intervals": [{"weekday": 0, "opens_at": "10:00:00", "closes_at": "14:00:00"}]
    }
