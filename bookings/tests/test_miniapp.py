"""Bookings in the Mini Apps: the page after booking asks VK for messages, notifications carry
the booking's app link, the staff bot's figures."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import services
from bookings.bot import bot_stats_bookings
from bookings.models import Booking
from bookings.tests.clock import at
from bookings.tests.factories import BookingFactory
from mailings.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def test_the_page_after_booking_asks_the_vk_mini_app_for_messages_once(client, user, resource, service):
    client.force_login(user)

    local = timezone.localtime(at(11), resource.organization.city.tzinfo)
    response = client.post(
        reverse("bookings:confirm"),
        {"resource": resource.pk, "service": service.pk, "date": local.date().isoformat(), "time": f"{local:%H:%M}"},
    )
    first = client.get(response["Location"]).content.decode()
    again = client.get(response["Location"]).content.decode()

    assert first.count("data-miniapp-allow-messages") == 1
    assert 'class="alert alert-success' in first  # the message keeps its level whatever its extra tag
    assert "data-miniapp-allow-messages" not in again


def test_booking_notifications_carry_a_button_to_the_booking(user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))

    notification = Notification.objects.get(user=user, kind="booking_confirmed")

    assert notification.context["app_link"] == {
        "text": "Открыть запись",
        "path": f"/bookings/{booking.pk}/",
        "start_param": f"booking_{booking.pk}",
    }


def test_stats_count_bookings_made_and_visits_in_the_period(resource, user):
    now = timezone.now()
    services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))  # made now, tomorrow
    BookingFactory(resource=resource, starts_at=now + timedelta(hours=2))
    BookingFactory(resource=resource, starts_at=now + timedelta(hours=4), status=Booking.Status.CANCELLED)
    Booking.objects.filter(starts_at=now + timedelta(hours=2)).update(created_at=now - timedelta(days=3))

    lines = bot_stats_bookings(start=now - timedelta(hours=1), end=now + timedelta(hours=12))

    assert lines == ["Новых записей: 2", "Визитов сегодня: 1"]
