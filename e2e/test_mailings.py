"""Mailings journey in the admin: compose, fix an error, preview, test to oneself,
schedule, and watch it delivered, with the real Telegram client against the fake."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from mailings.models import BotSubscriber, Delivery, Mailing
from mailings.services import mailings_dispatch_due
from portal.tests.factories import UserFactory
from portal.tests.mfa import totp_activate

pytestmark = pytest.mark.django_db(transaction=True)

MOSCOW = ZoneInfo("Europe/Moscow")


def _in_worker_thread(function, **kwargs):
    # Playwright's sync API keeps an event loop running in the test's thread; the
    # Telegram client, like a Celery worker, runs its own loop in a plain thread.
    def call():
        try:
            return function(**kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result(timeout=60)


def test_staff_compose_preview_test_schedule_and_see_it_delivered(page, admin_login, fake_telegram):
    staff = UserFactory(is_staff=True, is_superuser=True)
    totp_activate(staff)
    BotSubscriber.objects.create(channel="telegram", chat_id="9000", user=staff)
    for chat in ("9001", "9002", "9003"):
        BotSubscriber.objects.create(channel="telegram", chat_id=chat)
    BotSubscriber.objects.create(channel="telegram", chat_id="9004", is_active=False)
    send_at = (timezone.now() + timedelta(hours=2)).astimezone(MOSCOW)

    admin_login(page, staff)

    # compose a draft with a tag Telegram does not know: a form error, nothing saved
    page.goto("/admin/mailings/mailing/add/")
    page.fill("input[name=name]", "Зимние скидки")
    page.fill("textarea[name=text]", "<div>Скидки</div>")
    page.fill("input[name=send_at_0]", send_at.strftime("%d.%m.%Y"))
    page.fill("input[name=send_at_1]", send_at.strftime("%H:%M:%S"))
    page.select_option("select[name=audience]", "subscribers")
    page.check("input[name=channels][value=telegram]")
    page.fill("input[name='buttons-0-text']", "Открыть каталог")
    page.fill("input[name='buttons-0-url']", "https://citydesk.example/catalog/")
    page.fill("input[name='buttons-0-position']", "1")
    page.click("input[name=_continue]")
    expect(page.locator(".errorlist").first).to_be_visible()
    assert not Mailing.objects.exists()

    # fixed, it is saved as a draft and previewed as Telegram shows it
    page.fill("textarea[name=text]", "<b>Скидки</b> до 30 % в салонах города")
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_be_visible()
    mailing = Mailing.objects.get()
    assert mailing.status == Mailing.Status.DRAFT
    assert mailing.send_at == send_at.replace(microsecond=0)
    preview = page.locator(".mailing-preview")
    expect(preview.locator("b")).to_have_text("Скидки")
    expect(preview.get_by_role("link", name="Открыть каталог")).to_have_attribute(
        "href", "https://citydesk.example/catalog/"
    )

    # a test copy reaches the staff member's own chat, with the button
    page.get_by_role("button", name="Отправить тест себе").click()
    expect(page.locator("ul.messagelist .success")).to_be_visible()
    [(method, params)] = fake_telegram.messages_to("9000")
    assert method == "sendMessage"
    assert params["text"] == "<b>Скидки</b> до 30 % в салонах города"
    assert params["reply_markup"]["inline_keyboard"] == [
        [{"text": "Открыть каталог", "url": "https://citydesk.example/catalog/"}]
    ]

    # scheduled; when its time comes, the dispatcher sends it to every active subscriber once
    page.get_by_role("button", name="Запланировать").click()
    expect(page.locator("ul.messagelist .success")).to_be_visible()
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SCHEDULED
    assert _in_worker_thread(mailings_dispatch_due) == []  # not due yet
    assert _in_worker_thread(mailings_dispatch_due, now=mailing.send_at) == [mailing.pk]

    page.reload()
    progress = page.locator("#mailing-progress")
    expect(progress.get_by_role("row", name="Отправлено")).to_contain_text("4")
    expect(progress.get_by_role("row", name="В очереди")).to_contain_text("0")
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    assert Delivery.objects.filter(mailing=mailing, status="sent").count() == 4
    assert sorted(fake_telegram.count_by_chat().items()) == [("9000", 3), ("9001", 1), ("9002", 1), ("9003", 1)]
    assert not fake_telegram.messages_to("9004")
    # the staff member's chat: the test copy, the mailing itself, then the report
    test_copy, delivered, report = fake_telegram.messages_to("9000")
    assert test_copy[1]["text"] == delivered[1]["text"]
    assert "Зимние скидки" in report[1]["text"]
    assert "Отправлено: 4, с ошибкой: 0, пропущено: 0 из 4." in report[1]["text"]
