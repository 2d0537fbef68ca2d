"""Discovery in a real browser: searching in one's own words, the organization page people choose
from, booking a service from it, and reviewing the visit afterwards.

Screenshots of the list and the organization page at 390 px and 1366 px go to
``E2E_SCREENSHOTS`` when that variable names a folder (to look at them).
"""

import os
import re
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Booking, OpeningHours
from bookings.tests.factories import BookingFactory, ResourceFactory
from catalog.tests.factories import CategoryFactory, OrganizationFactory, ServiceFactory
from portal.services import user_verify
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (390, 1366)

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportViolation(e.effectiveDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


class BrowserWatch:
    """Collects CSP violations, console errors and uncaught errors of one page."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        page.context.expose_binding("reportViolation", lambda _source, v: self.problems.append(f"CSP {v}"))
        page.context.add_init_script(REPORT_VIOLATIONS)
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)

    def assert_clean(self) -> None:
        self.page.wait_for_timeout(300)
        assert self.problems == [], "\n".join(self.problems)


def _shoot(page, name: str) -> None:
    folder = os.environ.get("E2E_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})


@pytest.fixture
def barbershop():
    staff = UserFactory(is_staff=True)
    owner = UserFactory(first_name="Олег")
    user_verify(user=owner, by=staff)
    beauty = CategoryFactory(name="Красота и здоровье", slug="beauty", color="pink")
    barbers = CategoryFactory(name="Барбершопы", slug="barbershop", parent=beauty)
    org = OrganizationFactory(
        owner=owner,
        name="Борода и Ко",
        description="Барбершоп для тех, кто ценит своё время: стрижки, борода и бритьё.",
        address="Покровка, 17",
        phone="+74957654321",
    )
    org.categories.set([barbers, beauty])
    ServiceFactory(organization=org, name="Мужская стрижка", price=Decimal("1800"), duration_minutes=60)
    ServiceFactory(organization=org, name="Стрижка бороды", price=Decimal("1200"), duration_minutes=30)
    OpeningHours.objects.bulk_create(
        [OpeningHours(organization=org, weekday=d, opens_at=time(0), closes_at=time(0)) for d in range(7)]
    )
    ResourceFactory(organization=org, name="Мастер Артём", kind="specialist")
    OrganizationFactory(name="Точка роста", description="Коворкинг у метро").categories.set(
        [CategoryFactory(name="Коворкинги", slug="coworking")]
    )
    return org


def test_visitor_searches_in_lower_case_opens_the_page_and_books_a_service(page, live_server, barbershop):
    watch = BrowserWatch(page)
    watch.visit(reverse("catalog:list"))
    page.locator("#id_q").fill("стрижка")
    page.locator("#id_q").press("Enter")
    expect(page.get_by_role("link", name="Борода и Ко")).to_be_visible()
    expect(page.get_by_role("link", name="Точка роста")).to_have_count(0)
    expect(page.get_by_text("от 1\u00a0200\u00a0₽")).to_be_visible()
    _shoot(page, "catalog-list")

    if connection.vendor == "postgresql":
        watch.visit(reverse("catalog:list") + "?q=барбешоп")
        expect(page.get_by_role("link", name="Борода и Ко")).to_be_visible()
    watch.visit(reverse("catalog:list") + "?q=кворкнг")
    expect(page.get_by_test_id("search-suggestion")).to_contain_text("коворкинг")
    page.get_by_test_id("search-suggestion").get_by_role("link").click()
    expect(page.get_by_role("link", name="Точка роста")).to_be_visible()

    watch.visit(reverse("catalog:detail", args=[barbershop.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Борода и Ко")
    expect(page.get_by_text("✓ проверено").first).to_be_visible()
    expect(page.get_by_test_id("open-status")).to_have_text("Открыто круглосуточно")
    expect(page.locator("tr[aria-current=date]")).to_have_count(1)
    expect(page.get_by_role("link", name="Открыть в Яндекс Картах")).to_have_attribute(
        "href", re.compile(r"^https://yandex\.ru/maps/\?text=")
    )
    expect(page.get_by_role("link", name="+7 495 765-43-21")).to_have_attribute("href", "tel:+74957654321")
    expect(page.locator("#share-telegram")).to_have_value(
        re.compile(rf"^https://t\.me/citydesk_bot.*startapp=org_{barbershop.pk}$")
    )
    _shoot(page, "organization")

    beard = barbershop.services.get(name="Стрижка бороды")
    page.locator(f'[data-testid=book-service][href$="?service={beard.pk}"]').click()
    expect(page).to_have_url(re.compile(rf"/bookings/organization/\d+/\?service={beard.pk}"))
    expect(page.get_by_text("Стрижка бороды").first).to_be_visible()
    watch.assert_clean()


def test_client_reviews_the_visit_and_it_shows_on_the_page(page, live_server, login, barbershop):
    client = UserFactory(first_name="Анна", last_name="Смирнова")
    start = timezone.now() - timedelta(days=1)
    booking = BookingFactory(
        resource=barbershop.resources.get(),
        user=client,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        status=Booking.Status.COMPLETED,
    )
    watch = BrowserWatch(page)
    login(client)
    watch.visit(reverse("bookings:detail", args=[booking.pk]))
    expect(page.get_by_role("heading", name="Как прошёл визит?")).to_be_visible()
    page.locator("label[for=rating-5]").click()
    page.get_by_label("Ваш отзыв").fill("Быстро и аккуратно, спасибо Артёму!")
    _shoot(page, "review-form")
    page.get_by_role("button", name="Опубликовать отзыв").click()
    expect(page.get_by_text("Спасибо! Отзыв опубликован.")).to_be_visible()

    watch.visit(reverse("catalog:detail", args=[barbershop.pk]))
    expect(page.get_by_test_id("rating-summary")).to_contain_text("1 отзыв")
    expect(page.get_by_text("Быстро и аккуратно, спасибо Артёму!")).to_be_visible()
    expect(page.get_by_text("Анна С.")).to_be_visible()
    _shoot(page, "organization-reviewed")
    watch.assert_clean()
