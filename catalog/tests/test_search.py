"""Catalog search on every database (SQLite: ``env -u DATABASE_URL pytest catalog``; PostgreSQL: with DATABASE_URL).

Cases marked ``postgres`` need PostgreSQL (stemming in the text search, pg_trgm typo tolerance).
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog import search, selectors
from catalog.models import Category, Organization, Service
from catalog.tests.factories import CategoryFactory, CityFactory, OrganizationFactory, ServiceFactory
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def names(q, **filters):
    return [o.name for o in selectors.organization_list(q=q, **filters)]


@pytest.fixture
def demo_like():
    """A slice of the demo catalog: what a new user searches on `make run`."""
    coworkings = CategoryFactory(name="Коворкинги", slug="coworking")
    beauty = CategoryFactory(name="Красота и здоровье", slug="beauty")
    barbers = CategoryFactory(name="Барбершопы", slug="barbershop", parent=beauty)
    manicure = CategoryFactory(name="Маникюр и педикюр", slug="manicure", parent=beauty)
    point = OrganizationFactory(name="Точка роста", description="Коворкинг у метро: открытые рабочие места.")
    point.categories.set([coworkings])
    ServiceFactory(organization=point, name="Рабочее место на день", price=Decimal("900"))
    beard = OrganizationFactory(name="Борода и Ко", description="Мужские стрижки, борода и бритьё.")
    beard.categories.set([barbers, beauty])
    ServiceFactory(organization=beard, name="Мужская стрижка")
    lab = OrganizationFactory(name="Барбер Лаб", description="Кофе для гостей.")
    lab.categories.set([barbers])
    ServiceFactory(organization=lab, name="Стрижка бороды")
    nails = OrganizationFactory(name="Ноготок", description="Покрытие гель-лаком, стерильные инструменты.")
    nails.categories.set([manicure, beauty])
    ServiceFactory(organization=nails, name="Маникюр с покрытием")
    OrganizationFactory(name="Автосервис «Гараж»", description="Шиномонтаж и замена масла.")
    return {"point": point, "beard": beard, "lab": lab, "nails": nails}


# --- normalising ---------------------------------------------------------------------------


def test_normalize_lowers_russian_reads_yo_as_ye_and_drops_punctuation():
    assert search.normalize("  Студия «ЁЛКА»: Приём—запись!  ") == "студия елка прием запись"
    assert search.normalize("Фитнес-клуб_24") == "фитнес клуб 24"
    assert search.terms("и Барбершоп , ") == ["барбершоп"]
    assert search.terms("и") == ["и"]


def test_stems_are_russian_for_cyrillic_and_english_for_latin_words():
    assert search.stem("стрижки") == search.stem("стрижка") == "стрижк"
    assert search.stem("nails") == "nail"
    assert search.stem("24") == "24"


# --- what the new user typed, on every database -------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("стрижка", {"Борода и Ко", "Барбер Лаб"}),
        ("коворкинг", {"Точка роста"}),
        ("барбер", {"Борода и Ко", "Барбер Лаб"}),
        ("маникюр", {"Ноготок"}),
    ],
)
def test_lower_case_russian_words_find_organizations(demo_like, q, expected):
    assert set(names(q)) == expected


@pytest.mark.parametrize("q", ["СТРИЖКА", "Стрижка", "сТрИжКа", "стрижки"])
def test_search_ignores_case_and_word_endings(demo_like, q):
    assert set(names(q)) == {"Борода и Ко", "Барбер Лаб"}


def test_yo_and_ye_are_the_same_letter_both_ways():
    OrganizationFactory(name="Ёлочка", description="Зелёный чай и приём гостей")
    OrganizationFactory(name="Березка", description="Лесная поляна")
    assert names("елочка") == ["Ёлочка"]
    assert names("ЁЛОЧКА") == ["Ёлочка"]
    assert names("зеленый") == ["Ёлочка"]
    assert names("прием") == ["Ёлочка"]
    assert names("берёзка") == ["Березка"]


def test_service_names_are_searched_and_inactive_services_are_not(demo_like):
    ServiceFactory(organization=demo_like["point"], name="Аренда проектора", is_active=False)
    assert names("маникюр с покрытием") == ["Ноготок"]
    assert names("проектора") == []


def test_category_names_are_searched(demo_like):
    assert set(names("барбершопы")) == {"Борода и Ко", "Барбер Лаб"}
    assert set(names("педикюр")) == {"Ноготок"}


def test_every_word_must_match(demo_like):
    assert names("мужская стрижка") == ["Борода и Ко"]
    assert names("стрижка шиномонтаж") == []


def test_search_follows_service_changes(demo_like):
    service = Service.objects.get(name="Маникюр с покрытием")
    service.name = "Педикюр аппаратный"
    service.save()
    assert names("аппаратный") == ["Ноготок"]
    service.is_active = False
    service.save()
    assert names("аппаратный") == []
    ServiceFactory(organization=demo_like["point"], name="Переговорная на час")
    assert names("переговорная") == ["Точка роста"]
    Service.objects.get(name="Переговорная на час").delete()
    assert names("переговорная") == []


def test_search_follows_category_changes(demo_like):
    category = Category.objects.get(slug="coworking")
    category.name = "Антикафе"
    category.save()
    assert names("антикафе") == ["Точка роста"]
    demo_like["point"].categories.remove(category)
    assert names("антикафе") == []
    category.organizations.add(demo_like["lab"])
    assert names("антикафе") == ["Барбер Лаб"]


def test_search_follows_organization_changes_also_with_update_fields(demo_like):
    org = demo_like["point"]
    org.name = "Рабочая станция"
    org.save(update_fields=["name", "updated_at"])
    assert names("станция") == ["Рабочая станция"]


def test_bulk_writes_are_searchable_after_a_refresh():
    built = OrganizationFactory.build(name="Мастерская «Ключ»", slug="klyuch", owner=UserFactory(), city=CityFactory())
    org = Organization.objects.bulk_create([built])[0]
    Service.objects.bulk_create([Service(organization=org, name="Изготовление ключей", price=500, duration_minutes=15)])
    assert names("изготовление") == []
    assert search.organization_search_refresh(organization_ids=None) >= 1
    assert names("изготовление") == ["Мастерская «Ключ»"]
    assert names("мастерская ключ") == ["Мастерская «Ключ»"]


def test_punctuation_only_query_lists_everything_by_name(demo_like):
    assert len(names("«»—!?")) == 5


def test_exact_name_comes_first_then_names_starting_then_containing_the_query():
    # given four organizations that all match "барбер" (one only through its category)
    category = CategoryFactory(name="Барбершопы")
    OrganizationFactory(name="Лучший барбер города")
    OrganizationFactory(name="Барбер Лаб")
    OrganizationFactory(name="Стригу всех").categories.set([category])
    OrganizationFactory(name="Барбер")
    # when searching with the default (relevance) ordering
    found = names("барбер")
    # then the exact name leads, then the name that starts with it, then the one containing it
    assert found[:3] == ["Барбер", "Барбер Лаб", "Лучший барбер города"]
    assert found[3:] == ["Стригу всех"]


def test_an_explicit_ordering_wins_over_relevance(demo_like):
    assert names("стрижка", ordering="name") == ["Барбер Лаб", "Борода и Ко"]
    assert names("стрижка", ordering="-name") == ["Борода и Ко", "Барбер Лаб"]


def test_search_combines_with_city_and_category_filters(demo_like):
    assert set(names("стрижка", category="barbershop")) == {"Барбер Лаб", "Борода и Ко"}
    assert names("стрижка", category="coworking") == []
    assert names("стрижка", city="kazan") == []


# --- "did you mean" ---------------------------------------------------------------------------


def test_a_misspelling_that_finds_nothing_gets_a_suggestion_that_finds_something(demo_like):
    assert names("кворкнг") == []
    assert selectors.search_suggestion(q="кворкнг") == "коворкинги"
    assert names("коворкинги") == ["Точка роста"]
    assert selectors.search_suggestion(q="ноготок") is None  # known words need no suggestion
    assert selectors.search_suggestion(q="кворкнг", city="kazan") is None  # finds nothing there either


def test_list_page_offers_the_suggestion_as_a_link(client, demo_like):
    html = client.get(reverse("catalog:list"), {"q": "кворкнг", "city": "moscow"}).content.decode()
    assert "Perhaps you were looking for" in html
    assert (
        '«<a href="?q=%D0%BA%D0%BE%D0%B2%D0%BE%D1%80%D0%BA%D0%B8%D0%BD%D0%B3%D0%B8' in html or "коворкинги</a>" in html
    )
    assert "city=moscow" in html.split("Perhaps you were looking for")[1].split("</p>")[0]


# --- the page and the API search the same way ---------------------------------------------------


@pytest.mark.parametrize("q", ["стрижка", "БАРБЕР", "маникюр", "педикюр"])
def test_page_and_api_find_the_same_organizations(client, api_client, settings, demo_like, q):
    settings.CATALOG_LIST_CACHE_SECONDS = 0
    api = [o["name"] for o in api_client.get("/api/v1/organizations/", {"q": q}).json()["results"]]
    html = client.get(reverse("catalog:list"), {"q": q}).content.decode()
    assert api
    for name in api:
        assert f">{name}</a>" in html
    assert html.count("card-hover") == len(api)


def test_search_query_count_is_constant_in_page_size(api_client, settings, django_assert_max_num_queries, demo_like):
    settings.CATALOG_LIST_CACHE_SECONDS = 0
    for index in range(20):
        org = OrganizationFactory(name=f"Барбершоп №{index}")
        ServiceFactory(organization=org, name="Стрижка машинкой")
    for page_size in (2, 20):
        with django_assert_max_num_queries(2 if selectors.is_postgres() else 3):
            response = api_client.get("/api/v1/organizations/", {"q": "стрижка", "page_size": page_size})
        assert len(response.json()["results"]) == page_size


# --- PostgreSQL: stemming in the text search and typo tolerance ------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("каворкинг", {"Точка роста"}),
        ("барбешоп", {"Борода и Ко", "Барбер Лаб"}),
        ("маникур", {"Ноготок"}),
        ("Точка роста", {"Точка роста"}),
    ],
)
def test_postgres_tolerates_typos_in_names_services_and_categories(demo_like, q, expected):
    assert expected <= set(names(q))
    assert "Автосервис «Гараж»" not in names(q)


@pytest.mark.postgres
def test_postgres_typo_in_an_organization_name():
    OrganizationFactory(name="Шиномонтаж «Колесо»", description="Сезонная замена шин")
    OrganizationFactory(name="Кофейня", description="Капучино")
    assert names("шиномантаж") == ["Шиномонтаж «Колесо»"]


@pytest.mark.postgres
def test_postgres_stemming_covers_services_and_categories(demo_like):
    # "стрижками" and "барбершопами" are not substrings of anything: only stemming finds them.
    assert set(names("стрижками")) == {"Борода и Ко", "Барбер Лаб"}
    assert set(names("барбершопами")) == {"Борода и Ко", "Барбер Лаб"}


@pytest.mark.postgres
def test_postgres_search_vector_follows_a_service_rename(demo_like):
    from django.db import connection

    service = Service.objects.get(name="Рабочее место на день")
    service.name = "Переговорные комнаты"
    service.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM catalog_organization WHERE id = %s", [demo_like["point"].pk])
        vector = cursor.fetchone()[0]
    assert "'переговорн'" in vector
    assert "'ден'" not in vector
    assert names("переговорными") == ["Точка роста"]


@pytest.mark.postgres
def test_postgres_uses_the_trigram_indexes(demo_like):
    from django.db import connection

    # Planner statistics on a tiny table prefer a scan; switch scans off to see the index is usable.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM catalog_organization WHERE search_extra %%> %s",
            ["маникур"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(
            "EXPLAIN SELECT id FROM catalog_organization WHERE search_name %%> %s",
            ["барбер"],
        )
        plan += "\n".join(row[0] for row in cursor.fetchall())
    assert "catalog_organization_extra_trgm" in plan
    assert "catalog_organization_name_trgm" in plan
