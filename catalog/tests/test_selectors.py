from decimal import Decimal

import pytest

from catalog import selectors
from catalog.tests.factories import CategoryFactory, CityFactory, OrganizationFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def names(qs):
    return [o.name for o in qs]


def test_filter_by_city_slug_and_id():
    spb = CityFactory(slug="spb", name="Санкт-Петербург")
    a = OrganizationFactory(name="Альфа")
    OrganizationFactory(name="Бета", city=spb)
    assert names(selectors.organization_list(city="moscow")) == ["Альфа"]
    assert names(selectors.organization_list(city=str(spb.pk))) == ["Бета"]
    assert names(selectors.organization_list(city="nowhere")) == []
    assert a.city.slug == "moscow"


def test_filter_by_category_includes_subcategories():
    beauty = CategoryFactory(slug="beauty")
    barbers = CategoryFactory(slug="barbers", parent=beauty)
    yoga = CategoryFactory(slug="yoga")
    OrganizationFactory(name="Барбер").categories.set([barbers])
    OrganizationFactory(name="Салон").categories.set([beauty, barbers])
    OrganizationFactory(name="Йога").categories.set([yoga])
    assert names(selectors.organization_list(category="beauty")) == ["Барбер", "Салон"]
    assert names(selectors.organization_list(category="barbers")) == ["Барбер", "Салон"]
    assert names(selectors.organization_list(category=str(yoga.pk))) == ["Йога"]


def test_hidden_organizations_never_listed_by_filters():
    OrganizationFactory(name="Черновик", status="draft")
    assert names(selectors.organization_list(q="Черновик")) == []


def test_ordering_by_name_newest_and_price():
    a = OrganizationFactory(name="Бета")
    b = OrganizationFactory(name="Альфа")
    c = OrganizationFactory(name="Гамма")
    ServiceFactory(organization=a, price=Decimal("500"))
    ServiceFactory(organization=b, price=Decimal("3000"))
    ServiceFactory(organization=b, price=Decimal("100"), is_active=False)
    assert names(selectors.organization_list()) == ["Альфа", "Бета", "Гамма"]
    assert names(selectors.organization_list(ordering="-name")) == ["Гамма", "Бета", "Альфа"]
    assert names(selectors.organization_list(ordering="newest")) == ["Гамма", "Альфа", "Бета"]
    assert names(selectors.organization_list(ordering="price")) == ["Бета", "Альфа", "Гамма"]
    assert names(selectors.organization_list(ordering="-price")) == ["Альфа", "Бета", "Гамма"]
    assert c.name == "Гамма"


def test_search_finds_by_name_and_description():
    OrganizationFactory(name="Барбершоп Борода", description="Мужские стрижки")
    OrganizationFactory(name="Йога-студия", description="Занятия для начинающих")
    assert names(selectors.organization_list(q="Борода")) == ["Барбершоп Борода"]
    assert names(selectors.organization_list(q="Занятия")) == ["Йога-студия"]
    assert names(selectors.organization_list(q="Бассейн")) == []


@pytest.mark.postgres
def test_postgres_search_understands_russian_morphology_and_ranks_name_first():
    OrganizationFactory(name="Центр йоги", description="Хатха для всех")
    OrganizationFactory(name="Фитнес-клуб", description="Тренажёры, бассейн и немного йоги по выходным")
    OrganizationFactory(name="Автосервис", description="Шиномонтаж")
    # "йога" (nominative) matches "йоги" (genitive); a match in the name outranks the description.
    assert names(selectors.organization_list(q="йога")) == ["Центр йоги", "Фитнес-клуб"]
    assert names(selectors.organization_list(q="шиномонтажа")) == ["Автосервис"]


@pytest.mark.postgres
def test_postgres_search_vector_follows_updates():
    org = OrganizationFactory(name="Пекарня")
    assert names(selectors.organization_list(q="кондитерская")) == []
    org.description = "Кондитерская и кофе"
    org.save()
    assert names(selectors.organization_list(q="кондитерская")) == ["Пекарня"]


def test_home_context_has_pickers_and_featured_visible_only():
    parent = CategoryFactory(name="Красота")
    CategoryFactory(name="Барбершопы", parent=parent)
    visible = OrganizationFactory()
    OrganizationFactory(status="draft")
    ctx = selectors.home_context()
    assert [c.slug for c in ctx["cities"]] == ["moscow"]
    assert [c.name for c in ctx["categories"]] == ["Красота"]
    assert ctx["featured"] == [visible]
