from datetime import time, timedelta

import factory
from django.utils import timezone

from bookings.models import Booking, OpeningHours, Resource
from catalog.tests.factories import OrganizationFactory
from portal.tests.factories import UserFactory


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Место {n}")
    kind = Resource.Kind.SEAT


class BookingFactory(factory.django.DjangoModelFactory):
    """A confirmed booking written directly (for fixtures); real bookings go through services."""

    class Meta:
        model = Booking

    resource = factory.SubFactory(ResourceFactory)
    user = factory.SubFactory(UserFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))
    status = Booking.Status.CONFIRMED


def open_every_day(organization, opens: time = time(9), closes: time = time(21)) -> None:
    """Give ``organization`` the same opening hours on all seven days."""
    OpeningHours.objects.bulk_create(
        [OpeningHours(organization=organization, weekday=d, opens_at=opens, closes_at=closes) for d in range(7)]
    )
