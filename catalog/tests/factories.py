from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import Category, Organization, Service
from portal.tests.factories import CityFactory, UserFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Категория {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class OrganizationFactory(factory.django.DjangoModelFactory):
    """A published organization listed for 30 days (visible in the catalog)."""

    class Meta:
        model = Organization

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Организация {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    city = factory.SubFactory(CityFactory)
    description = "Хорошее место"
    address = "ул. Ленина, 1"
    status = Organization.Status.PUBLISHED
    listed_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Услуга {n}")
    price = Decimal("1500.00")
    duration_minutes = 60
