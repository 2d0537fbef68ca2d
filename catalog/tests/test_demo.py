import io

import pytest

from catalog import demo
from catalog.models import Organization, OrganizationPhoto, Service
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_lists_demo_organizations():
    users = [UserFactory(), UserFactory()]
    result = demo.seed(io.StringIO(), {"users": users})
    counts = (Organization.objects.count(), Service.objects.count(), OrganizationPhoto.objects.count())
    listed = dict(Organization.objects.values_list("pk", "listed_until"))
    again = demo.seed(io.StringIO(), {"users": users})
    assert (Organization.objects.count(), Service.objects.count(), OrganizationPhoto.objects.count()) == counts
    assert dict(Organization.objects.values_list("pk", "listed_until")) == listed
    assert again["coworking"] == result["coworking"]
    assert result["coworking"].name == "Точка роста" and result["barbershop"].name == "Борода и Ко"
    assert result["coworking"].city.slug == "moscow"
    assert result["barbershop"].services.count() == 3
    assert Organization.objects.visible().count() == len(result["organizations"]) >= 24
    assert result["cities"]["novosibirsk"].timezone == "Asia/Novosibirsk"


def test_seeded_photos_have_their_dimensions():
    demo.seed(io.StringIO(), {"users": [UserFactory()]})
    photos = OrganizationPhoto.objects.all()
    assert photos.exists()
    assert set(photos.values_list("width", "height")) == {(800, 500)}
