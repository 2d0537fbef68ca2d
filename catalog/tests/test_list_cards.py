"""The public list's cards are built from rows (catalog.selectors.organization_cards), not from
model instances through OrganizationCardSerializer; the JSON must stay what the serializer gives.

Each test compares the API's page byte for byte with the serializer's output for the same
organizations (loaded the way the HTML page and the detail serializers still load them).
"""

from decimal import Decimal
from urllib.parse import quote

import pytest
from django.test import RequestFactory
from rest_framework.renderers import JSONRenderer

from catalog import selectors
from catalog.api import OrganizationCardSerializer
from catalog.models import OrganizationPhoto
from catalog.services import organization_rating_set
from catalog.tests.factories import CategoryFactory, CityFactory, OrganizationFactory, ServiceFactory
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/organizations/"


@pytest.fixture
def catalog(settings):
    """Cards of every kind: photos (the cover is the lowest position), several categories (a
    subcategory, display order by position), active and inactive services or none, a rating
    or none, a verified owner or not, two cities."""
    settings.CATALOG_LIST_CACHE_SECONDS = 0
    spb = CityFactory(slug="spb", name="Санкт-Петербург")
    beauty = CategoryFactory(name="Красота", slug="beauty", position=2)
    barbers = CategoryFactory(name="Барбершопы", slug="barbers", parent=beauty, position=1)
    yoga = CategoryFactory(name="Йога", slug="yoga", position=3)
    same_position = CategoryFactory(name="Аэройога", slug="aero-yoga", position=3)

    beard = OrganizationFactory(
        name="Борода и Ко", description="барбершоп, стрижки", owner=UserFactory(is_verified=True), phone="+74951234567"
    )
    beard.categories.set([beauty, barbers])
    ServiceFactory(organization=beard, name="Стрижка", price=Decimal("1200.00"))
    ServiceFactory(organization=beard, name="Борода", price=Decimal("700.50"))
    ServiceFactory(organization=beard, name="Старая цена", price=Decimal("100.00"), is_active=False)
    OrganizationPhoto.objects.create(organization=beard, image="organizations/b/second.jpg", position=1)
    OrganizationPhoto.objects.create(organization=beard, image="organizations/b/first.jpg", position=0)
    organization_rating_set(organization=beard, rating=Decimal("4.67"), reviews_count=3)

    lotus = OrganizationFactory(name="Лотос", city=spb, website="https://lotus.example", address="")
    lotus.categories.set([yoga, same_position])
    ServiceFactory(organization=lotus, name="Хатха", price=Decimal("900"))
    organization_rating_set(organization=lotus, rating=Decimal("5"), reviews_count=1)

    empty = OrganizationFactory(name="Без услуг")  # no category, no service, no photo, no rating
    OrganizationPhoto.objects.create(organization=empty, image="organizations/e/только фото.jpg", position=4)
    OrganizationFactory(name="Только услуги")
    ServiceFactory(organization=OrganizationFactory(name="Неактивные"), price=Decimal("10"), is_active=False)
    OrganizationFactory(name="Черновик", status="draft")
    return {"beauty": beauty, "spb": spb}


def _serializer_page(params: dict) -> tuple[int, bytes]:
    """What the list answered when it serialized model instances: the count and the rendered results."""
    filters = {k: params[k] for k in ("city", "category", "q", "ordering") if params.get(k)}
    organizations = selectors.organization_list(**filters)
    size = int(params.get("page_size", 20))
    page = int(params.get("page", 1))
    instances = list(organizations[(page - 1) * size : page * size])
    request = RequestFactory().get(LIST, params)
    data = OrganizationCardSerializer(instances, many=True, context={"request": request}).data
    return organizations.count(), JSONRenderer().render(data)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ordering": "name"},
        {"ordering": "-name"},
        {"ordering": "newest"},
        {"ordering": "-rating"},
        {"ordering": "price"},
        {"ordering": "-price"},
        {"q": "барбершоп"},
        {"q": "йога", "ordering": "relevance"},
        {"category": "beauty"},
        {"city": "spb"},
        {"page_size": 2, "page": 2},
    ],
    ids=lambda params: ",".join(f"{k}={v}" for k, v in params.items()) or "default",
)
def test_the_list_answers_what_the_card_serializer_gave(api_client, catalog, params):
    response = api_client.get(LIST, params)

    assert response.status_code == 200
    count, expected = _serializer_page(params)
    assert response.data["count"] == count
    assert JSONRenderer().render(response.data["results"]) == expected
    assert expected in response.content  # the body carries those very bytes


def test_cards_show_what_each_organization_has(api_client, catalog):
    cards = {card["name"]: card for card in api_client.get(LIST).json()["results"]}

    assert cards["Борода и Ко"]["min_price"] == "700.50"  # the inactive 100.00 does not count
    assert cards["Борода и Ко"]["cover"] == "/media/organizations/b/first.jpg"
    assert [c["slug"] for c in cards["Борода и Ко"]["categories"]] == ["barbers", "beauty"]
    assert (cards["Борода и Ко"]["rating"], cards["Борода и Ко"]["reviews_count"]) == ("4.67", 3)
    assert cards["Борода и Ко"]["is_verified"] is True
    assert [c["slug"] for c in cards["Лотос"]["categories"]] == ["aero-yoga", "yoga"]  # same position: by name
    assert cards["Лотос"]["rating"] == "5.00"
    assert cards["Лотос"]["city"]["slug"] == "spb"
    assert cards["Без услуг"]["min_price"] is None
    assert cards["Без услуг"]["categories"] == []
    assert cards["Без услуг"]["cover"] == "/media/" + quote("organizations/e/только фото.jpg")
    assert (cards["Без услуг"]["rating"], cards["Без услуг"]["is_verified"]) == (None, False)
    assert cards["Неактивные"]["min_price"] is None
    assert "Черновик" not in cards


# --- Redis round trips -------------------------------------------------------------------------


@pytest.mark.redis
def test_a_cached_page_costs_two_round_trips_to_redis_the_throttle_and_the_read(api_client, settings):
    from portal.tests.redis_trips import redis_round_trips

    settings.CATALOG_LIST_CACHE_SECONDS = 30
    OrganizationFactory(name="Кэш")
    api_client.get(LIST)  # the catalog version exists, the throttle's script is loaded

    with redis_round_trips() as missed:
        api_client.get(LIST, {"ordering": "newest"})
    with redis_round_trips() as hit:
        response = api_client.get(LIST, {"ordering": "newest"})

    assert response.status_code == 200
    assert response.json()["results"][0]["name"] == "Кэш"
    # The throttle counts the anonymous scope; MGET reads the catalog version and the entry together.
    assert missed == [["EVALSHA"], ["MGET"], ["SET"]]
    assert hit == [["EVALSHA"], ["MGET"]]


def test_an_entry_of_an_older_catalog_version_is_not_served(api_client, settings):
    settings.CATALOG_LIST_CACHE_SECONDS = 30
    organization = OrganizationFactory(name="Старое имя")
    assert api_client.get(LIST).json()["results"][0]["name"] == "Старое имя"

    organization.name = "Новое имя"
    organization.save()  # bumps the catalog version; the entry's key stays the same

    assert api_client.get(LIST).json()["results"][0]["name"] == "Новое имя"
