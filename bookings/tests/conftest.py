from datetime import time

import pytest
import time_machine

from bookings.tests.clock import NOW
from bookings.tests.factories import ResourceFactory, open_every_day
from catalog.tests.factories import CityFactory, OrganizationFactory, ServiceFactory


@pytest.fixture
def novosibirsk(db):
    return CityFactory(name="Новосибирск", slug="novosibirsk", timezone="Asia/Novosibirsk")


@pytest.fixture
def moscow(db):
    return CityFactory(name="Москва", slug="moscow", timezone="Europe/Moscow")


@pytest.fixture
def organization(moscow):
    org = OrganizationFactory(city=moscow)
    open_every_day(org, time(9), time(21))
    return org


@pytest.fixture
def resource(organization):
    return ResourceFactory(organization=organization, name="Кресло 1", kind="specialist")


@pytest.fixture
def service(organization):
    return ServiceFactory(organization=organization, name="Стрижка", duration_minutes=60)


@pytest.fixture
def frozen_now():
    """Stop the clock at bookings.tests.clock.NOW."""
    with time_machine.travel(NOW, tick=False):
        yield NOW
