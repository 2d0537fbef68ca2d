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
