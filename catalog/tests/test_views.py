from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Organization, OrganizationPhoto, Service
from catalog.tests.factories import CategoryFactory, CityFactory, OrganizationFactory, ServiceFactory
from catalog.tests.images import image_upload

pytestmark = pytest.mark.django_db


def test_home_page_shows_city_and_category_pickers(client):
    CityFactory(name="Казань", slug="kazan")
    CategoryFactory(name="Коворкинги", slug="coworking")
    html = client.get("/").content.decode()
    assert 'value="kazan"' in html and "Коворкинги" in html


def test_catalog_list_filters_and_paginates(client):
    spb = CityFactory(slug="spb", name="Санкт-Петербург")
    for i in range(14):
        OrganizationFactory(name=f"Москва {i:02d}")
    OrganizationFactory(name="Питерская", city=spb)
    OrganizationFactory(name="Черновик", status="draft")
    page1 = client.get(reverse("catalog:list")).content.decode()
    assert "Москва 00" in page1 and "Черновик" not in page1
    assert "page=2" in page1
    spb_page = client.get(reverse("catalog:list"), {"city": "spb"}).content.decode()
    assert "Питерская" in spb_page and "Москва 00" not in spb_page
    page2 = client.get(reverse("catalog:list"), {"page": 2}).content.decode()
    assert "Москва 13" in page2


def test_catalog_list_ignores_bad_filters(client):
    OrganizationFactory(name="Альфа")
    response = client.get(reverse("catalog:list"), {"ordering": "DROP", "city": "<script>", "page": "x"})
    assert response.status_code == 200
    assert "Альфа" in response.content.decode()


def test_html_list_query_count(client, django_assert_max_num_queries):
    cats = [CategoryFactory(), CategoryFactory()]
    for _ in range(20):
        org = OrganizationFactory()
        org.categories.set(cats)
        ServiceFactory(organization=org)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("catalog:list"), {"category": cats[0].slug, "q": "Организация"})
    assert response.status_code == 200


def test_detail_page_shows_services_prices_contacts(client):
    org = OrganizationFactory(name="Борода и Ко", phone="+74951234567", website="https://boroda.example.ru")
    ServiceFactory(organization=org, name="Мужская стрижка", price=Decimal("1800"))
    ServiceFactory(organization=org, name="Снятая услуга", is_active=False)
    OrganizationPhoto.objects.create(organization=org, image=image_upload(), position=0)
    html = client.get(reverse("catalog:detail", args=[org.pk])).content.decode()
    assert "Мужская стрижка" in html and "1\u00a0800\u00a0₽" in html
    assert "Снятая услуга" not in html
    assert "tel:+74951234567" in html and "https://boroda.example.ru" in html
    assert "<img" in html


def test_detail_of_invisible_organization_is_404_except_for_owner(client, user):
    draft = OrganizationFactory(status="draft", owner=user)
    assert client.get(reverse("catalog:detail", args=[draft.pk])).status_code == 404
    client.force_login(user)
    response = client.get(reverse("catalog:detail", args=[draft.pk]))
    assert response.status_code == 200
    assert response.context["is_visible"] is False


def test_owner_creates_organization_adds_photo_and_service_then_publishes(client, user):
    client.force_login(user)
    city = CityFactory()
    cat = CategoryFactory()
    response = client.post(
        reverse("catalog:create"),
        {"name": "Точка роста", "city": city.pk, "categories": [cat.pk], "description": "Коворкинг",
         "address": "ул. Ленина, 1", "phone": "+7 495 123-45-67", "website": ""},
    )  # fmt: skip
    org = Organization.objects.get(owner=user)
    assert response.status_code == 302 and response.url == reverse("catalog:photos", args=[org.pk])
    assert org.status == "draft" and org.phone == "+74951234567"
    response = client.post(reverse("catalog:photos", args=[org.pk]), {"image": image_upload(), "caption": "Зал"})
    assert response.status_code == 302
    assert org.photos.get().width == 64
    response = client.post(
        reverse("catalog:services", args=[org.pk]),
        {"name": "Рабочее место", "price": "900", "duration_minutes": "480", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Service.objects.get(organization=org).price == Decimal("900")
    client.post(reverse("catalog:publish", args=[org.pk]))
    org.refresh_from_db()
    assert org.status == "published"
    page = client.get(reverse("catalog:my_organizations")).content.decode()
    assert "Точка роста" in page


def test_my_organizations_shows_not_listed_state(client, user):
    OrganizationFactory(owner=user, listed_until=None, name="Без подписки")
    client.force_login(user)
    html = client.get(reverse("catalog:my_organizations")).content.decode()
    assert "Без подписки" in html
    assert "Not listed" in html or "Не размещена" in html


def test_create_form_shows_errors_next_to_fields_and_saves_nothing(client, user):
    client.force_login(user)
    city = CityFactory()
    response = client.post(reverse("catalog:create"), {"name": "", "city": city.pk, "phone": "12-34"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "name" in form.errors and "phone" in form.errors
    assert not Organization.objects.exists()


def test_bad_photo_upload_shows_error_and_saves_nothing(client, user):
    org = OrganizationFactory(owner=user)
    client.force_login(user)
    response = client.post(reverse("catalog:photos", args=[org.pk]), {"image": image_upload("a.gif", "GIF")})
    assert response.status_code == 200
    assert response.context["form"].errors["image"]
    assert not OrganizationPhoto.objects.exists()


@pytest.mark.parametrize(
    "name,method",
    [
        ("catalog:edit", "get"),
        ("catalog:edit", "post"),
        ("catalog:photos", "get"),
        ("catalog:photos", "post"),
        ("catalog:services", "get"),
        ("catalog:services", "post"),
        ("catalog:publish", "post"),
        ("catalog:hide", "post"),
        ("catalog:delete", "post"),
    ],
)
def test_owner_pages_of_another_owner_are_404(client, user, name, method):
    victim = OrganizationFactory(name="Чужая")
    client.force_login(user)
    response = getattr(client, method)(reverse(name, args=[victim.pk]), {"name": "Взлом"})
    assert response.status_code == 404
    victim.refresh_from_db()
    assert victim.name == "Чужая" and victim.status == "published"


def test_service_and_photo_pages_of_another_owner_are_404(client, user):
    victim = OrganizationFactory()
    service = ServiceFactory(organization=victim)
    photo = OrganizationPhoto.objects.create(organization=victim, image=image_upload(), position=0)
    client.force_login(user)
    assert client.get(reverse("catalog:service_edit", args=[victim.pk, service.pk])).status_code == 404
    assert client.post(reverse("catalog:service_delete", args=[victim.pk, service.pk])).status_code == 404
    assert client.post(reverse("catalog:photo_delete", args=[victim.pk, photo.pk])).status_code == 404
    assert client.post(reverse("catalog:photo_move", args=[victim.pk, photo.pk]), {"position": 1}).status_code == 404
    assert Service.objects.filter(pk=service.pk).exists() and OrganizationPhoto.objects.filter(pk=photo.pk).exists()


def test_owner_pages_require_login(client):
    response = client.get(reverse("catalog:my_organizations"))
    assert response.status_code == 302 and "login" in response.url


# --- the organization page -------------------------------------------------------------------


def test_detail_page_links_map_phone_share_and_open_graph(client, settings):
    settings.TELEGRAM_BOT_USERNAME = "citydesk_bot"
    settings.VK_APP_ID = "51234567"
    settings.SITE_URL = "https://citydesk.example.ru"
    org = OrganizationFactory(name="Точка роста", address="ул. Ленина, 1", phone="+74951234567",
                              description="Коворкинг у метро")  # fmt: skip
    OrganizationPhoto.objects.create(organization=org, image=image_upload(), position=0)
    html = client.get(reverse("catalog:detail", args=[org.pk])).content.decode()
    assert 'href="https://yandex.ru/maps/?text=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0%2C%20%D1%83%D0%BB.' in html
    assert 'href="tel:+74951234567"' in html
    assert "https://t.me/citydesk_bot" in html and f"startapp=org_{org.pk}" in html
    assert f"https://vk.com/app51234567#org_{org.pk}" in html
    assert '<meta property="og:title" content="Точка роста — Москва">' in html
    assert f'<meta property="og:url" content="https://citydesk.example.ru/catalog/{org.pk}/">' in html
    assert '<meta property="og:image" content="https://citydesk.example.ru/media/organizations/' in html
    assert '<meta property="og:description" content="Коворкинг у метро">' in html


def test_share_links_only_for_configured_apps(client, settings):
    settings.TELEGRAM_BOT_USERNAME = ""
    settings.VK_APP_ID = ""
    org = OrganizationFactory()
    html = client.get(reverse("catalog:detail", args=[org.pk])).content.decode()
    assert "t.me/" not in html and "vk.com/app" not in html and 'id="share-title"' not in html


def test_verified_owner_is_marked_on_the_page_and_the_card(client, staff_user):
    from portal.services import user_verify

    org = OrganizationFactory(name="Проверенный мастер")
    other = OrganizationFactory(name="Новичок")
    user_verify(user=org.owner, by=staff_user)
    detail = client.get(reverse("catalog:detail", args=[org.pk])).content.decode()
    assert "verified-badge" in detail
    assert "verified-badge" not in client.get(reverse("catalog:detail", args=[other.pk])).content.decode()
    listing = client.get(reverse("catalog:list")).content.decode()
    assert listing.count("verified-badge") == 1


def test_without_photos_a_placeholder_shows_initials_on_the_category_tone(client):
    category = CategoryFactory(name="Барбершопы", color="green")
    child = CategoryFactory(name="Бритьё", parent=category)
    org = OrganizationFactory(name="Борода и Ко")
    org.categories.set([child])
    listing = client.get(reverse("catalog:list")).content.decode()
    assert (
        '<div class="org-placeholder tone-green org-placeholder-card" aria-hidden="true"><span>БК</span></div>'
        in listing
    )
    detail = client.get(reverse("catalog:detail", args=[org.pk])).content.decode()
    assert "org-placeholder tone-green org-placeholder-logo" in detail


def test_initials_and_tones():
    assert OrganizationFactory.build(name="Салон «Лаванда»").initials == "СЛ"
    assert OrganizationFactory.build(name="Йога").initials == "Й"
    assert OrganizationFactory.build(name="«»").initials == "•"
    # a category without a colour gets a stable one from its slug
    assert CategoryFactory.build(slug="x").tone == CategoryFactory.build(slug="x").tone


def test_list_shows_price_from_the_cheapest_active_service_and_sorts_by_price(client):
    cheap = OrganizationFactory(name="Дёшево")
    ServiceFactory(organization=cheap, price=Decimal("500"))
    ServiceFactory(organization=cheap, price=Decimal("90"), is_active=False)
    dear = OrganizationFactory(name="Дорого")
    ServiceFactory(organization=dear, price=Decimal("3000"))
    html = client.get(reverse("catalog:list"), {"ordering": "price"}).content.decode()
    assert html.index("Дёшево") < html.index("Дорого")
    assert "500\u00a0₽" in html and "90\u00a0₽" not in html
    html = client.get(reverse("catalog:list"), {"ordering": "-price"}).content.decode()
    assert html.index("Дорого") < html.index("Дёшево")


def test_list_has_open_graph_and_the_rating_sort(client):
    html = client.get(reverse("catalog:list")).content.decode()
    assert '<meta property="og:title"' in html and "og-default.jpg" in html
    assert 'value="-rating"' in html


def test_detail_page_query_count_is_constant(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(services):
        org = OrganizationFactory()
        for index in range(services):
            ServiceFactory(organization=org, name=f"Услуга {index}")
            OrganizationPhoto.objects.create(organization=org, image=image_upload(), position=index)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("catalog:detail", args=[org.pk])).status_code == 200
        return len(captured)

    few, many = queries_for(1), queries_for(6)
    assert few == many <= 14


def test_pages_link_the_favicon_app_icons_and_a_valid_manifest(client):
    import json

    from django.conf import settings as django_settings
    from PIL import Image

    html = client.get(reverse("catalog:list")).content.decode()
    for path in ("img/favicon.svg", "img/favicon-32.png", "img/apple-touch-icon.png", "manifest.webmanifest"):
        assert f"/static/{path}" in html
    static = django_settings.BASE_DIR / "static"
    manifest = json.loads((static / "manifest.webmanifest").read_text(encoding="utf-8"))
    assert manifest["short_name"] == "Citydesk" and manifest["start_url"] == "/"
    for icon in manifest["icons"]:
        file = static / icon["src"]
        assert file.exists(), icon
        if icon["type"] == "image/png":
            with Image.open(file) as image:
                assert f"{image.width}x{image.height}" == icon["sizes"]
    with Image.open(static / "img/apple-touch-icon.png") as image:
        assert image.size == (180, 180)
    with Image.open(static / "img/og-default.jpg") as image:
        assert image.size == (1200, 630)
