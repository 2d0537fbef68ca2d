"""The booking pages: pick a slot and book, my bookings, the booking page, owners' pages."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from bookings import services
from bookings.models import Booking, OpeningHours, Resource
from bookings.tests.clock import at
from catalog.tests.factories import OrganizationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def test_organization_page_lists_free_slots_and_the_confirmation_books(client, user, resource, service):
    services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    url = reverse("bookings:organization", args=[resource.organization_id])
    page = client.get(url, {"resource": resource.pk, "service": service.pk, "date": "2026-03-03"})
    assert page.status_code == 200
    html = page.content.decode()
    assert ">09:00<" in html and ">10:00<" not in html and ">11:00<" in html

    client.force_login(user)
    confirm = {"resource": resource.pk, "service": service.pk, "date": "2026-03-03", "time": "11:00"}
    response = client.post(reverse("bookings:confirm"), confirm)
    booking = Booking.objects.get(starts_at=at(11))
    assert response.status_code == 302 and response["Location"] == reverse("bookings:detail", args=[booking.pk])
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert reverse("api:booking-qr", args=[booking.pk]) in detail.content.decode()


def test_taken_slot_shows_a_message_not_an_error(client, user, other_user, resource):
    services.booking_create(user=other_user, resource=resource, starts_at=at(10), ends_at=at(11))
    client.force_login(user)
    response = client.post(
        reverse("bookings:confirm"), {"resource": resource.pk, "date": "2026-03-03", "time": "10:00"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "10:00" in html and 'data-testid="slot-gone"' in html
    assert Booking.objects.count() == 1


def test_booking_requires_login_and_comes_back_to_the_same_slot(client, resource):
    confirm = {"resource": resource.pk, "date": "2026-03-03", "time": "10:00"}
    response = client.post(reverse("bookings:confirm"), confirm)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login") + "?next=")
    assert "time%3D10%253A00" in response["Location"]
    assert Booking.objects.count() == 0


def test_mine_detail_cancel_and_isolation(client, user, other_user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    client.force_login(other_user)
    assert client.get(reverse("bookings:detail", args=[booking.pk])).status_code == 404
    assert client.post(reverse("bookings:cancel", args=[booking.pk])).status_code == 404
    client.force_login(user)
    mine = client.get(reverse("bookings:mine"))
    assert mine.status_code == 200 and resource.name in mine.content.decode()
    client.post(reverse("bookings:cancel", args=[booking.pk]))
    booking.refresh_from_db()
    assert booking.status == "cancelled"


def test_invite_error_is_shown_next_to_the_field(client, user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    client.force_login(user)
    response = client.post(reverse("bookings:invite", args=[booking.pk]), {"email": "not-an-email"})
    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode()
    assert booking.participant_links.count() == 0


def test_invite_page_answers_the_same_for_registered_and_unknown_emails(client, user, other_user, resource):
    """Finding 4 on the page: "No registered user has this email" told strangers apart from users."""
    other_user.first_name, other_user.last_name = "Тайна", "Регистрации"
    other_user.save()
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    client.force_login(user)
    url = reverse("bookings:invite", args=[booking.pk])

    registered = client.post(url, {"email": other_user.email}, follow=True)
    unknown = client.post(url, {"email": "nobody@example.com"}, follow=True)

    for response in (registered, unknown):
        html = response.content.decode()
        assert response.redirect_chain == [(reverse("bookings:detail", args=[booking.pk]), 302)]
        assert "Приглашение отправлено" in html
        assert "Тайна" not in html and other_user.email not in html
    assert booking.participant_links.get().user == other_user


def test_invitee_accepts_on_the_booking_page(client, user, other_user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    services.booking_invite(booking=booking, actor=user, email=other_user.email)
    client.force_login(other_user)
    assert resource.name in client.get(reverse("bookings:mine")).content.decode()  # the invitations block
    page = client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    assert reverse("bookings:accept", args=[booking.pk]) in page

    client.post(reverse("bookings:accept", args=[booking.pk]))

    assert booking.participant_links.get().status == "accepted"
    client.force_login(user)
    assert other_user.get_full_name() in client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()


def test_owner_pages_check_in_and_isolation(client, user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    owner = resource.organization.owner
    stranger = OrganizationFactory().owner
    client.force_login(stranger)
    assert client.get(reverse("bookings:owner_bookings", args=[resource.organization_id])).status_code == 404
    assert client.post(reverse("bookings:owner_check_in", args=[booking.pk])).status_code == 404
    client.force_login(owner)
    listing = client.get(reverse("bookings:owner_bookings", args=[resource.organization_id]), {"date": "2026-03-03"})
    assert listing.status_code == 200
    assert (user.get_full_name() or user.email) in listing.content.decode()
    token = services.checkin_token(booking)
    with time_machine.travel(at(9, 55), tick=False):
        prefilled = client.get(reverse("bookings:check_in"), {"token": token})
        assert token in prefilled.content.decode()
        first = client.post(reverse("bookings:check_in"), {"token": token})
        second = client.post(reverse("bookings:check_in"), {"token": token})
        forged = client.post(reverse("bookings:check_in"), {"token": "garbage"})
    assert first.status_code == 200 and 'data-testid="checkin-result"' in first.content.decode()
    assert second.status_code == 200 and "09:55" in second.content.decode()
    assert forged.status_code == 200 and "invalid-feedback" in forged.content.decode()
    booking.refresh_from_db()
    assert booking.status == "checked_in"


def test_owner_edits_resources_and_hours(client, resource):
    client.force_login(resource.organization.owner)
    org = resource.organization
    response = client.post(
        reverse("bookings:owner_resources", args=[org.pk]),
        {
            "name": "Переговорная",
            "kind": "room",
            "capacity": "8",
            "amenities_text": "проектор, доска",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    room = Resource.objects.get(name="Переговорная")
    assert room.amenities == ["проектор", "доска"] and room.capacity == 8
    week = {"d0-is_open": "on", "d0-opens_at": "10:00", "d0-closes_at": "00:00", "d0-break_from": "14:00"}
    before = list(OpeningHours.objects.filter(organization=org).values_list("weekday", "opens_at", "closes_at"))
    half_break = client.post(reverse("bookings:opening_hours", args=[org.pk]), week)
    assert half_break.status_code == 400 and "invalid-feedback" in half_break.content.decode()
    assert list(OpeningHours.objects.filter(organization=org).values_list("weekday", "opens_at", "closes_at")) == before
    week["d0-break_to"] = "15:00"
    ok = client.post(reverse("bookings:opening_hours", args=[org.pk]), week)
    assert ok.status_code == 302
    assert list(OpeningHours.objects.filter(organization=org).values_list("weekday", "opens_at", "closes_at")) == [
        (0, time(10), time(14)),
        (0, time(15), time(0)),
    ]


def test_pages_show_times_in_the_organization_city(client, user, novosibirsk):
    from bookings.tests.factories import ResourceFactory, open_every_day

    org = OrganizationFactory(city=novosibirsk)
    open_every_day(org, time(9), time(12))
    resource = ResourceFactory(organization=org)
    nsk = ZoneInfo("Asia/Novosibirsk")
    page = client.get(reverse("bookings:organization", args=[org.pk]), {"resource": resource.pk, "date": "2026-03-03"})
    html = page.content.decode()
    assert ">09:00<" in html and ">11:00<" in html and ">12:00<" not in html
    booking = services.booking_create(
        user=user,
        resource=resource,
        starts_at=datetime(2026, 3, 3, 10, 0, tzinfo=nsk),
        ends_at=datetime(2026, 3, 3, 11, 0, tzinfo=nsk),
    )
    client.force_login(user)
    assert "3 марта 2026, 10:00" in client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    assert "3 марта 2026, 10:00" in client.get(reverse("bookings:mine")).content.decode()


def test_move_from_the_organization_page(client, user, other_user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    client.force_login(user)
    page = client.get(
        reverse("bookings:organization", args=[resource.organization_id]), {"move": booking.pk, "date": "2026-03-03"}
    )
    html = page.content.decode()
    assert f"move={booking.pk}" in html and ">10:00<" in html  # its own time counts as free
    move = {"resource": resource.pk, "date": "2026-03-03", "time": "15:00", "move": booking.pk}
    confirm = client.get(reverse("bookings:confirm"), move)
    assert confirm.status_code == 200 and 'data-testid="confirm-button"' in confirm.content.decode()
    assert Booking.objects.get().starts_at == at(10)  # looking at the confirmation changes nothing
    response = client.post(reverse("bookings:confirm"), move)
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == at(15) and Booking.objects.count() == 1
    client.force_login(other_user)
    foreign = client.post(reverse("bookings:confirm"), {**move, "time": "17:00"})
    # someone else's booking is not theirs to move: at most they book the time for themselves
    booking.refresh_from_db()
    assert booking.starts_at == at(15)
    assert foreign.status_code == 302
    assert Booking.objects.filter(user=other_user).count() == 1


def test_redirects_after_a_post_stay_on_this_site(client, user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    client.force_login(user)
    evil = "https://evil.example/phish"
    cancelled = client.post(reverse("bookings:cancel", args=[booking.pk]), {"next": evil})
    assert cancelled["Location"] == reverse("bookings:detail", args=[booking.pk])
    same_site = reverse("bookings:mine") + "?when=past"
    assert client.post(reverse("bookings:cancel", args=[booking.pk]), {"next": same_site})["Location"] == same_site
    page = client.get(reverse("bookings:cancel", args=[booking.pk]), {"next": evil}).content.decode()
    assert evil not in page
    client.force_login(resource.organization.owner)
    checked = client.post(reverse("bookings:owner_check_in", args=[booking.pk]), {"next": "//evil.example/"})
    assert (
        checked["Location"] == reverse("bookings:owner_bookings", args=[resource.organization_id]) + "?date=2026-03-03"
    )


def test_anonymous_visitor_goes_from_a_slot_to_the_confirmation_page(client, resource):
    url = reverse("bookings:organization", args=[resource.organization_id])
    html = client.get(url, {"resource": resource.pk, "date": "2026-03-03"}).content.decode()
    assert reverse("bookings:confirm") + "?resource=" in html and ">09:00<" in html


def test_my_bookings_link_to_my_organizations_only_for_owners(client, user, resource):
    client.force_login(user)
    assert reverse("bookings:owned") not in client.get(reverse("bookings:mine")).content.decode()
    client.force_login(resource.organization.owner)
    assert reverse("bookings:owned") in client.get(reverse("bookings:mine")).content.decode()
