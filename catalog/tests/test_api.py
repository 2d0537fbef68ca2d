from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import selectors
from catalog.models import Organization, OrganizationPhoto, Service
from catalog.tests.factories import (
    CategoryFactory,
    CityFactory,
    OrganizationFactory,
    ServiceFactory,
)
from catalog.tests.images import image_upload
from portal.services import user_block

pytestmark = pytest.mark.django_db

LIST = "/api/v1/organizations/"


def detail(pk):
    return f"/api/v1/organizations/{pk}/"


# --- public reads -----------------------------------------------------------------------------


def test_cities_and_categories_are_public_and_paginated(api_client):
    CityFactory(slug="kazan", name="Казань")
    CategoryFactory(name="Коворкинги", slug="coworking")
    cities = api_client.get("/api/v1/cities/").json()
    assert [c["slug"] for c in cities["results"]] == ["kazan"]
    categories = api_client.get("/api/v1/categories/").json()
    assert categories["count"] == 1
    assert categories["results"][0] == {"id": categories["results"][0]["id"], "name": "Коворкинги",
                                        "slug": "coworking", "parent": None, "position": 0}  # fmt: skip


def test_public_list_shows_visible_only_with_card_fields(api_client):
    org = OrganizationFactory(name="Точка роста", phone="+74951234567")
    category = CategoryFactory(name="Коворкинги")
    org.categories.set([category])
    ServiceFactory(organization=org, price=Decimal("900"))
    OrganizationFactory(status="draft")
    OrganizationFactory(listed_until=None)
    body = api_client.get(LIST).json()
    assert body["count"] == 1
    card = body["results"][0]
    assert card["name"] == "Точка роста"
    assert card["city"] == {"id": org.city_id, "name": "Москва", "slug": "moscow"}
    assert card["categories"] == [{"id": category.pk, "name": "Коворкинги", "slug": category.slug}]
    assert card["min_price"] == "900.00"
    assert card["url"] == f"/catalog/{org.pk}/"


def test_public_list_filters_search_and_ordering(api_client):
    spb = CityFactory(slug="spb", name="Санкт-Петербург")
    cat = CategoryFactory(slug="barbershop")
    a = OrganizationFactory(name="Борода и Ко", description="барбершоп")
    a.categories.set([cat])
    OrganizationFactory(name="Йога", city=spb)
    assert [o["name"] for o in api_client.get(LIST, {"city": "spb"}).json()["results"]] == ["Йога"]
    assert [o["name"] for o in api_client.get(LIST, {"category": "barbershop"}).json()["results"]] == ["Борода и Ко"]
    assert [o["name"] for o in api_client.get(LIST, {"q": "Борода"}).json()["results"]] == ["Борода и Ко"]
    assert [o["name"] for o in api_client.get(LIST, {"ordering": "-name"}).json()["results"]] == ["Йога", "Борода и Ко"]


def test_unknown_ordering_is_a_400(api_client):
    response = api_client.get(LIST, {"ordering": "password"})
    assert response.status_code == 400
    assert "ordering" in response.json()


@pytest.mark.parametrize("param", ["q", "city", "category"])
def test_nul_character_in_a_list_filter_is_a_400(api_client, param):
    OrganizationFactory()
    response = api_client.get(LIST, {param: "Борода\x00"})
    assert response.status_code == 400
    assert param in response.json()


def test_detail_shows_gallery_and_active_services(api_client):
    org = OrganizationFactory()
    ServiceFactory(organization=org, name="Стрижка", price=Decimal("1800"))
    ServiceFactory(organization=org, name="Архив", is_active=False)
    OrganizationPhoto.objects.create(organization=org, image=image_upload(), position=0, width=64, height=48)
    body = api_client.get(detail(org.pk)).json()
    assert [s["name"] for s in body["services"]] == ["Стрижка"]
    assert body["services"][0]["price"] == "1800.00"
    assert len(body["photos"]) == 1 and body["photos"][0]["width"] == 64
    assert "status" not in body  # the owner's fields are not public


def test_detail_of_invisible_organization_is_404_for_others_but_not_owner(api_client, user_api, user):
    draft = OrganizationFactory(status="draft", owner=user)
    assert api_client.get(detail(draft.pk)).status_code == 404
    body = user_api.get(detail(draft.pk)).json()
    assert body["status"] == "draft" and body["is_listed"] is True


def test_public_services_list(api_client):
    org = OrganizationFactory()
    ServiceFactory(organization=org, name="Активная")
    ServiceFactory(organization=org, name="Архивная", is_active=False)
    body = api_client.get(f"{detail(org.pk)}services/").json()
    assert [s["name"] for s in body["results"]] == ["Активная"]
    hidden = OrganizationFactory(status="hidden")
    assert api_client.get(f"{detail(hidden.pk)}services/").status_code == 404


# --- owner writes --------------------------------------------------------------------------


def test_owner_creates_a_draft_organization(user_api, user):
    city = CityFactory()
    cat = CategoryFactory()
    response = user_api.post(
        LIST,
        {"name": "Борода и Ко", "city": city.pk, "categories": [cat.pk], "phone": "8 (495) 123-45-67",
         "website": "boroda.example.ru", "address": "Покровка, 17"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["slug"] == "boroda-i-ko"
    assert body["phone"] == "+74951234567"
    assert body["website"] == "https://boroda.example.ru"
    assert body["missing_for_publishing"] == ["description"]
    assert Organization.objects.get(pk=body["id"]).owner == user


def test_create_requires_login(api_client):
    city = CityFactory()
    response = api_client.post(LIST, {"name": "X", "city": city.pk}, format="json")
    assert response.status_code in (401, 403)
    assert not Organization.objects.exists()


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"name": "  "}, "name"),
        ({"phone": "12-34"}, "phone"),
        ({"website": "http://не сайт"}, "website"),
        ({"city": 999999}, "city"),
    ],
)
def test_create_with_bad_input_is_400_and_creates_nothing(user_api, payload, field):
    city = CityFactory()
    data = {"name": "Студия", "city": city.pk, **payload}
    response = user_api.post(LIST, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Organization.objects.exists()


def test_owner_updates_publishes_hides_and_deletes(user_api, user):
    org = OrganizationFactory(owner=user, status="draft", description="")
    org.categories.set([CategoryFactory()])
    response = user_api.post(f"{detail(org.pk)}publish/")
    assert response.status_code == 400
    assert response.json()["code"] == "incomplete"
    response = user_api.patch(detail(org.pk), {"description": "Лучшие стрижки", "phone": "+7 495 000-00-00"})
    assert response.status_code == 200, response.content
    assert user_api.post(f"{detail(org.pk)}publish/").json()["status"] == "published"
    assert user_api.post(f"{detail(org.pk)}hide/").json()["status"] == "hidden"
    assert user_api.delete(detail(org.pk)).status_code == 204
    assert not Organization.objects.filter(pk=org.pk).exists()


def test_mine_lists_own_organizations_in_every_status(user_api, user):
    OrganizationFactory(owner=user, status="draft", name="Мой черновик")
    OrganizationFactory(owner=user, name="Моя опубликованная")
    OrganizationFactory(name="Чужая")
    body = user_api.get(f"{LIST}mine/").json()
    assert sorted(o["name"] for o in body["results"]) == ["Мой черновик", "Моя опубликованная"]


def test_owner_uploads_photo_and_services(user_api, user):
    org = OrganizationFactory(owner=user)
    response = user_api.post(
        f"{detail(org.pk)}photos/", {"image": image_upload(), "caption": "Зал"}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert response.json()["position"] == 0 and response.json()["caption"] == "Зал"
    second = user_api.post(f"{detail(org.pk)}photos/", {"image": image_upload("b.png", "PNG")}, format="multipart")
    assert second.json()["position"] == 1
    moved = user_api.patch(f"{detail(org.pk)}photos/{second.json()['id']}/", {"position": 0}, format="json")
    assert moved.json()["position"] == 0
    assert user_api.delete(f"{detail(org.pk)}photos/{response.json()['id']}/").status_code == 204
    assert org.photos.count() == 1

    created = user_api.post(f"{detail(org.pk)}services/", {"name": "Стрижка", "price": "1800", "duration_minutes": 60})
    assert created.status_code == 201, created.content
    assert created.json()["price"] == "1800.00"
    service_url = f"{detail(org.pk)}services/{created.json()['id']}/"
    assert user_api.patch(service_url, {"price": "2000.00"}).json()["price"] == "2000.00"
    assert user_api.delete(service_url).status_code == 204
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "Стрижка", "price": "-1", "duration_minutes": 60},
        {"name": "Стрижка", "price": "100", "duration_minutes": 0},
        {"name": "", "price": "100", "duration_minutes": 30},
        {"name": "Стрижка", "price": "дорого", "duration_minutes": 30},
    ],
)
def test_bad_service_is_400_and_changes_nothing(user_api, user, payload):
    org = OrganizationFactory(owner=user)
    response = user_api.post(f"{detail(org.pk)}services/", payload, format="json")
    assert response.status_code == 400
    assert not Service.objects.exists()


def test_bad_photo_is_400_and_changes_nothing(user_api, user):
    org = OrganizationFactory(owner=user)
    fake = SimpleUploadedFile("photo.jpg", b"not an image at all", content_type="image/jpeg")
    response = user_api.post(f"{detail(org.pk)}photos/", {"image": fake}, format="multipart")
    assert response.status_code == 400
    assert "image" in response.json()
    gif = user_api.post(f"{detail(org.pk)}photos/", {"image": image_upload("a.gif", "GIF")}, format="multipart")
    assert gif.status_code == 400
    assert not OrganizationPhoto.objects.exists()


# --- isolation: another owner's organization is a 404 on every endpoint --------------------


@pytest.mark.parametrize(
    "method,suffix,data",
    [
        ("patch", "", {"name": "Взлом"}),
        ("put", "", {"name": "Взлом", "city": None}),
        ("delete", "", None),
        ("post", "publish/", None),
        ("post", "hide/", None),
        ("post", "services/", {"name": "Взлом", "price": "1", "duration_minutes": 10}),
        ("patch", "services/{service}/", {"price": "1"}),
        ("delete", "services/{service}/", None),
        ("delete", "photos/{photo}/", None),
        ("patch", "photos/{photo}/", {"position": 0}),
    ],
)
def test_another_owners_organization_is_404(user_api, method, suffix, data):
    victim = OrganizationFactory(name="Чужая")
    service = ServiceFactory(organization=victim, price=Decimal("100"))
    photo = OrganizationPhoto.objects.create(organization=victim, image=image_upload(), position=0)
    if data and "city" in data:
        data["city"] = victim.city_id
    url = detail(victim.pk) + suffix.format(service=service.pk, photo=photo.pk)
    response = getattr(user_api, method)(url, data, format="json")
    assert response.status_code == 404
    victim.refresh_from_db()
    service.refresh_from_db()
    assert victim.name == "Чужая" and victim.status == "published"
    assert service.price == Decimal("100") and Service.objects.count() == 1
    assert OrganizationPhoto.objects.count() == 1


def test_another_owners_photo_upload_is_404(user_api):
    victim = OrganizationFactory()
    response = user_api.post(f"{detail(victim.pk)}photos/", {"image": image_upload()}, format="multipart")
    assert response.status_code == 404
    assert not OrganizationPhoto.objects.exists()


def test_another_owners_draft_is_404_on_read(user_api):
    draft = OrganizationFactory(status="draft")
    assert user_api.get(detail(draft.pk)).status_code == 404
    assert user_api.get(f"{detail(draft.pk)}services/").status_code == 404


def test_blocked_user_gets_403(user_api, user):
    user_block(user=user, reason="спам")
    response = user_api.get(f"{LIST}mine/")
    assert response.status_code == 403
    assert response.json()["code"] == "user_blocked"


# --- performance ---------------------------------------------------------------------------


def _populate(n):
    cats = [CategoryFactory(), CategoryFactory()]
    for i in range(n):
        org = OrganizationFactory()
        org.categories.set(cats)
        ServiceFactory(organization=org)
        ServiceFactory(organization=org)
        if i % 2:
            OrganizationPhoto.objects.create(organization=org, image="organizations/x.jpg", position=0)
    return cats


@pytest.mark.parametrize("page_size", [2, 25])
def test_api_list_query_count_is_constant(api_client, settings, django_assert_max_num_queries, page_size):
    settings.CATALOG_LIST_CACHE_SECONDS = 0
    cats = _populate(25)
    # The count and the page's rows (no model instances); one more for the categories off PostgreSQL.
    with django_assert_max_num_queries(2 if selectors.is_postgres() else 3):
        response = api_client.get(LIST, {"page_size": page_size, "q": "Организация", "category": cats[0].slug})
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size


# --- cache -----------------------------------------------------------------------------------


@pytest.fixture
def private_cache(settings):
    """A per-process cache: the shared test Redis is flushed by parallel workers at any time."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "catalog"}}


def test_cached_list_is_served_without_queries_and_invalidated_on_change(
    api_client, django_assert_num_queries, private_cache
):
    org = OrganizationFactory(name="Старое имя")
    assert api_client.get(LIST).json()["results"][0]["name"] == "Старое имя"
    with django_assert_num_queries(0):
        assert api_client.get(LIST).json()["results"][0]["name"] == "Старое имя"
    org.name = "Новое имя"
    org.save()
    assert api_client.get(LIST).json()["results"][0]["name"] == "Новое имя"
    ServiceFactory(organization=org, price=Decimal("700"))
    assert api_client.get(LIST).json()["results"][0]["min_price"] == "700.00"


def test_cached_list_drops_organizations_of_a_blocked_owner(api_client, private_cache):
    org = OrganizationFactory()
    assert api_client.get(LIST).json()["count"] == 1
    user_block(user=org.owner, reason="мошенничество")
    assert api_client.get(LIST).json()["count"] == 0


def test_cached_list_respects_listing_expiry(api_client, settings, private_cache):
    import time_machine
    from django.utils import timezone

    settings.CATALOG_LIST_CACHE_SECONDS = 30
    start = timezone.now()
    OrganizationFactory(listed_until=start + __import__("datetime").timedelta(seconds=10))
    with time_machine.travel(start, tick=False):
        assert api_client.get(LIST).json()["count"] == 1
    with time_machine.travel(start + __import__("datetime").timedelta(seconds=61), tick=False):
        assert api_client.get(LIST).json()["count"] == 0
