"""Journey: an anonymous visitor picks a service and a slot, signs up on the way, confirms, sees the
booking with its QR code and calendar link; the owner, linked to the Telegram bot, is told and sees
it in the day view; the visitor cancels (after a confirmation) and the owner is told again."""

import json
import re
from datetime import time, timedelta

import pytest
import requests
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Booking
from bookings.tests.factories import ResourceFactory, open_every_day
from catalog.tests.factories import CityFactory, OrganizationFactory, ServiceFactory
from mailings.models import BotSubscriber
from portal.tests.factories import USER_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

WEBHOOK_SECRET = "e2e-webhook-secret"
OWNER_TG = {"id": 777001, "is_bot": False, "first_name": "Олег", "language_code": "ru"}
PASSWORD = "Sup3r-secret-pass!"


def _telegram_sends(live_server, text: str) -> None:
    """Telegram delivers the owner's message to our webhook, as it does in production."""
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 1700000000, "chat": {"id": OWNER_TG["id"], "type": "private"},
                    "from": OWNER_TG, "text": text},
    }  # fmt: skip
    response = requests.post(
        f"{live_server.url}/telegram/webhook/",
        data=json.dumps(update),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        timeout=30,
    )
    assert response.status_code == 200


def _owner_texts(fake_telegram) -> list[str]:
    return [params.get("text", "") for _method, params in fake_telegram.messages_to(OWNER_TG["id"])]


def test_visitor_books_through_signup_owner_is_told_and_sees_it_visitor_cancels(
    page, browser, live_server, login, fake_telegram, settings
):
    settings.SITE_URL = live_server.url
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    city = CityFactory(name="Новосибирск", slug="novosibirsk", timezone="Asia/Novosibirsk")
    owner = UserFactory(first_name="Олег")
    organization = OrganizationFactory(owner=owner, city=city, name="Борода и Ко", address="Красный пр., 1")
    open_every_day(organization, time(9), time(21))
    haircut = ServiceFactory(organization=organization, name="Мужская стрижка", duration_minutes=60, price="1800")
    for name in ("Мастер Артём", "Мастер Ильдар"):
        ResourceFactory(organization=organization, name=name, kind="specialist").services.add(haircut)
    tomorrow = (timezone.localtime(timezone.now(), city.tzinfo) + timedelta(days=1)).date()

    # the owner links the bot through the real flow: the profile's deep link, opened in Telegram
    owner_context = browser.new_context(locale="ru-RU", base_url=live_server.url)
    try:
        owner_page = owner_context.new_page()
        login_owner = owner_page.goto("/accounts/login/")
        assert login_owner.status == 200
        owner_page.fill("input[name=login]", owner.email)
        owner_page.fill("input[name=password]", USER_PASSWORD)
        owner_page.click("form button[type=submit]")
        owner_page.goto("/profile/")
        owner_page.get_by_role("button", name="Привязать Telegram").click()
        deep_link = owner_page.locator("a[href*='t.me/']").get_attribute("href")
        token = re.search(r"start=(link_[\w-]+)", deep_link).group(1)
        _telegram_sends(live_server, f"/start {token}")
        assert BotSubscriber.objects.get(chat_id=str(OWNER_TG["id"])).user_id == owner.pk

        # an anonymous visitor picks the service on the organization's page…
        page.goto(f"/catalog/{organization.pk}/")
        page.get_by_test_id("book-service").first.click()
        # …any free master, tomorrow, the first free time
        page.get_by_test_id("resource-any").click()
        page.locator(f"a.day-chip[href*='date={tomorrow.isoformat()}']").click()
        first_slot = page.get_by_test_id("slots").locator("a").first
        expect(first_slot).to_have_text("09:00")
        first_slot.click()

        # the confirmation: what, where, when in Novosibirsk time, the price, this slot's deadline
        summary = page.get_by_test_id("confirm-summary")
        expect(summary).to_contain_text("Мужская стрижка")
        expect(summary).to_contain_text("09:00–10:00")
        expect(summary).to_contain_text("Новосибирск, UTC+7")
        expect(page.get_by_test_id("confirm-price")).to_have_text("1\xa0800\xa0₽")
        expect(page.get_by_test_id("confirm-deadline")).to_contain_text("Бесплатная отмена — до")
        confirm_path = page.url.replace(live_server.url, "")

        # signing up keeps the slot: after the emailed confirmation the visitor is back here
        page.get_by_test_id("confirm-sign-in").get_by_role("link", name="Зарегистрироваться").click()
        page.fill("input[name=email]", "anna@example.com")
        page.fill("input[name=password1]", PASSWORD)
        page.fill("input[name=password2]", PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_load_state()
        link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
        page.goto(link)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"**{confirm_path}")
        page.get_by_label("Комментарий для организации").fill("Первый раз, покороче")
        page.get_by_label("Телефон").fill("8 912 000-11-22")
        page.get_by_test_id("confirm-button").click()

        # booked: the page shows the QR code (its image loads) and the calendar link
        expect(page.get_by_test_id("booking-status")).to_have_text("вы записаны")
        page.wait_for_function(
            "() => { const img = document.querySelector(\"img[src*='/qr/']\");"
            " return img && img.complete && img.naturalWidth > 0; }"
        )
        calendar = page.get_by_test_id("add-to-calendar")
        expect(calendar).to_have_text("Добавить в календарь")
        ics = page.request.get(calendar.get_attribute("href"))
        assert ics.status == 200 and ics.headers["content-type"].startswith("text/calendar")
        assert "BEGIN:VEVENT" in ics.text()
        booking = Booking.objects.get(user__email="anna@example.com")
        assert timezone.localtime(booking.starts_at, city.tzinfo).time() == time(9)
        assert booking.resource.name == "Мастер Артём" and booking.phone == "+79120001122"

        # the owner was told in Telegram and sees the booking in the day view
        new_booking = [t for t in _owner_texts(fake_telegram) if "Новая запись" in t]
        assert len(new_booking) == 1 and "+79120001122" in new_booking[0] and "Первый раз" in new_booking[0]
        owner_page.goto(f"/bookings/owner/{organization.pk}/?date={tomorrow.isoformat()}")
        row = owner_page.get_by_test_id("owner-booking")
        expect(row).to_contain_text("09:00–10:00")
        expect(row).to_contain_text("anna@example.com")
        expect(row).to_contain_text("+79120001122")
        expect(row).to_contain_text("Первый раз, покороче")
        expect(row.get_by_role("button", name="Отметить приход")).to_be_visible()

        # the visitor cancels, after saying yes once more
        page.get_by_test_id("cancel-link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Отменить запись?")
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED
        page.get_by_test_id("cancel-confirm").click()
        expect(page.get_by_test_id("booking-status")).to_have_text("отменена")
        expect(page.locator("img[src*='/qr/']")).to_have_count(0)
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED

        # …and the owner is told again
        cancelled = [t for t in _owner_texts(fake_telegram) if "отменил(а) запись" in t]
        assert len(cancelled) == 1
        owner_page.reload()
        expect(owner_page.get_by_test_id("owner-booking")).to_contain_text("отменена")
    finally:
        owner_context.close()
