"""Catalog journeys: a visitor finds an organization; an owner lists one."""

import re

import pytest
from playwright.sync_api import expect

from catalog.tests.factories import CategoryFactory, CityFactory, OrganizationFactory, ServiceFactory
from catalog.tests.images import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def test_visitor_picks_city_and_category_searches_and_opens_organization(page):
    moscow = CityFactory()
    CityFactory(slug="kazan", name="Казань")
    barbers = CategoryFactory(name="Барбершопы", slug="barbershop")
    CategoryFactory(name="Коворкинги", slug="coworking")
    org = OrganizationFactory(name="Борода и Ко", city=moscow, description="Мужские стрижки и борода")
    org.categories.set([barbers])
    ServiceFactory(organization=org, name="Мужская стрижка", price=1800)
    OrganizationFactory(name="Коворкинг на Казанской", city=moscow, description="Рабочие места")

    page.goto("/")
    page.locator("#home-city").select_option("moscow")
    page.locator("#home-category").select_option("barbershop")
    page.locator("#home-q").fill("Борода")
    page.locator("#home-q").press("Enter")

    expect(page).to_have_url(re.compile(r"/catalog/\?.*city=moscow"))
    results = page.get_by_role("link", name="Борода и Ко")
    expect(results).to_be_visible()
    expect(page.get_by_role("link", name="Коворкинг на Казанской")).to_have_count(0)
    results.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Борода и Ко")
    expect(page.get_by_text("Мужская стрижка")).to_be_visible()
    expect(page.get_by_text("1\u00a0800\u00a0₽")).to_be_visible()


def test_owner_creates_organization_with_photo_and_service(page, login, user, tmp_path):
    CityFactory()
    CategoryFactory(name="Коворкинги", slug="coworking")
    photo = tmp_path / "hall.jpg"
    photo.write_bytes(image_bytes("JPEG", size=(320, 200)))

    login(user)
    page.goto("/catalog/my/new/")
    page.locator("#id_name").fill("Точка роста")
    page.locator("#id_city").select_option(label="Москва")
    page.locator("#id_categories").select_option(label=["Коворкинги"])
    page.locator("#id_description").fill("Коворкинг у метро, переговорные и кофе")
    page.locator("#id_address").fill("ул. Ленина, 1")
    page.locator("#id_phone").fill("8 (495) 123-45-67")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/catalog/my/\d+/photos/"))
    page.locator("#id_image").set_input_files(str(photo))
    page.locator("#id_caption").fill("Открытое пространство")
    page.locator("main form[enctype] button[type=submit]").click()
    expect(page.get_by_role("img", name="Открытое пространство")).to_be_visible()

    page.locator("main nav, main .nav-tabs").get_by_role("link", name=re.compile("Услуги|Services")).click()
    page.locator("#id_name").fill("Рабочее место на день")
    page.locator("#id_price").fill("900")
    page.locator("#id_duration_minutes").fill("480")
    page.locator("main form.form-narrow button[type=submit]").click()
    expect(page.get_by_role("cell", name="Рабочее место на день")).to_be_visible()

    page.goto("/catalog/my/")
    expect(page.get_by_role("link", name="Точка роста")).to_be_visible()
    page.get_by_role("button", name=re.compile("Опубликовать|Publish")).click()
    expect(page.get_by_text(re.compile("опубликована|published", re.I)).first).to_be_visible()
