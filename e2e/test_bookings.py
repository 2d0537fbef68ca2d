"""Journey: open an organization, pick a service and a free slot, book, see the QR code, cancel."""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Booking
from bookings.tests.factories import ResourceFactory, open_every_day
from catalog.tests.factories import CityFactory, OrganizationFactory, ServiceFactory
from portal.tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_book_a_slot_see_qr_and_cancel(page, login, live_server):
    city = CityFactory(name="Новосибирск", slug="novosibirsk", timezone="Asia/Novosibirsk")
    organization = OrganizationFactory(city=city, name="Борода и Ко")
    open_every_day(organization, time(9), time(21))
    ResourceFactory(organization=organization, name="Мастер Артём", kind="specialist")
    ServiceFactory(organization=organization, name="Мужская стрижка", duration_minutes=60)
    user = UserFactory()
    tomorrow = (timezone.localtime(timezone.now(), city.tzinfo) + timedelta(days=1)).date()

    login(user)
    page.goto(f"/bookings/organization/{organization.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Борода и Ко")
    page.locator("select[name=service]").select_option(label="Мужская стрижка")
    page.locator("input[name=date]").fill(tomorrow.isoformat())
    page.locator("form[method=get] button[type=submit]").click()

    first_slot = page.locator("form[action$='/bookings/book/'] button").first
    expect(first_slot).to_have_text("09:00")
    first_slot.click()

    qr = page.locator("img[src*='/qr/']")
    expect(qr).to_be_visible()
    # The image really loads (the QR endpoint answers the page's session with an SVG).
    page.wait_for_function(
        "() => { const img = document.querySelector(\"img[src*='/qr/']\");"
        " return img && img.complete && img.naturalWidth > 0; }"
    )
    booking = Booking.objects.get(user=user)
    assert timezone.localtime(booking.starts_at, city.tzinfo).hour == 9

    page.locator(f"form[action$='/bookings/{booking.pk}/cancel/'] button").click()
    expect(page.locator("img[src*='/qr/']")).to_have_count(0)  # a cancelled booking has no check-in code
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
