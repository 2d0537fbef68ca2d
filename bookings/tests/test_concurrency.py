"""50 users racing for one slot through the API: one booking, 49 × 409 (PostgreSQL, real threads)."""

import threading
from datetime import time, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.models import Booking
from bookings.tests.factories import ResourceFactory, open_every_day
from catalog.tests.factories import OrganizationFactory
from portal.tests.factories import UserFactory

USERS = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_for_one_slot():
    # given: an organization open round the clock and 50 logged-in clients
    organization = OrganizationFactory()
    open_every_day(organization, time(0), time(0))
    resource = ResourceFactory(organization=organization)
    start = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    payload = {
        "resource": resource.pk,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
    }
    clients = []
    for _ in range(USERS):
        client = APIClient()
        client.force_login(UserFactory())
        clients.append(client)
    barrier = threading.Barrier(USERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(client):
        try:
            barrier.wait(timeout=30)
            response = client.post(reverse("api:booking-list"), payload, format="json")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    # when: all of them post at once
    threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then
    assert sorted(statuses) == [201] + [409] * (USERS - 1)
    assert Booking.objects.filter(resource=resource).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reminder_runs_racing_in_parallel_send_each_reminder_once(settings):
    import time_machine

    from bookings import services
    from mailings.models import Notification

    settings.BOOKING_REMINDER_OFFSETS_MINUTES = [1440, 60]
    organization = OrganizationFactory()
    open_every_day(organization, time(0), time(0))
    resource = ResourceFactory(organization=organization)
    booker, guest = UserFactory(), UserFactory()
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    with time_machine.travel(start - timedelta(days=2), tick=False):
        booking = services.booking_create(
            user=booker, resource=resource, starts_at=start, ends_at=start + timedelta(hours=1)
        )
        services.booking_invite(booking=booking, actor=booker, email=guest.email)
        services.booking_accept(booking=booking, user=guest)

    runs = 6
    barrier = threading.Barrier(runs)
    sent: list[int] = []
    lock = threading.Lock()

    def beat():
        try:
            barrier.wait(timeout=30)
            count = services.booking_reminders_send(now=start - timedelta(minutes=1439))
            with lock:
                sent.append(count)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(sent) == 2  # booker and participant, once each
    assert Notification.objects.filter(kind="booking_reminder").count() == 2
