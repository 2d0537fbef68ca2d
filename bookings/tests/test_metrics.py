"""Bookings move citydesk_bookings_total: created once committed, conflict when the slot is taken."""

from datetime import UTC

import pytest
from django.test import Client
from django.urls import reverse

from bookings import services
from bookings.tests.clock import at
from portal.tests.metrics import sample, scrape

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def iso(value):
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_a_booking_through_the_api_moves_the_created_counter(
    user_api, resource, settings, django_capture_on_commit_callbacks
):
    before = scrape(Client(), settings)

    with django_capture_on_commit_callbacks(execute=True):
        response = user_api.post(
            reverse("api:booking-list"), {"resource": resource.pk, "starts_at": iso(at(10)), "ends_at": iso(at(11))}
        )
    assert response.status_code == 201, response.content

    after = scrape(Client(), settings)
    assert sample(after, "citydesk_bookings_total", result="created") == (
        sample(before, "citydesk_bookings_total", result="created") + 1
    )
    assert sample(after, "citydesk_bookings_total", result="conflict") == sample(
        before, "citydesk_bookings_total", result="conflict"
    )
    # and the request itself was counted under its view
    assert (
        sample(after, "citydesk_http_requests_total", view="api:booking-list", method="POST", status="201")
        == sample(before, "citydesk_http_requests_total", view="api:booking-list", method="POST", status="201") + 1
    )


def test_a_taken_slot_moves_the_conflict_counter_and_not_created(
    user_api, other_user, resource, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_create(user=other_user, resource=resource, starts_at=at(10), ends_at=at(11))
    before = scrape(Client(), settings)

    with django_capture_on_commit_callbacks(execute=True):
        response = user_api.post(
            reverse("api:booking-list"),
            {"resource": resource.pk, "starts_at": iso(at(10, 30)), "ends_at": iso(at(11, 30))},
        )
    assert response.status_code == 409

    after = scrape(Client(), settings)
    assert sample(after, "citydesk_bookings_total", result="conflict") == (
        sample(before, "citydesk_bookings_total", result="conflict") + 1
    )
    assert sample(after, "citydesk_bookings_total", result="created") == sample(
        before, "citydesk_bookings_total", result="created"
    )


def test_a_booking_rolled_back_is_not_counted(user, resource, settings, django_capture_on_commit_callbacks):
    from django.db import transaction

    before = scrape(Client(), settings)

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
                raise RuntimeError("the caller's transaction fails after the booking")
        except RuntimeError:
            pass

    after = scrape(Client(), settings)
    assert sample(after, "citydesk_bookings_total", result="created") == sample(
        before, "citydesk_bookings_total", result="created"
    )
