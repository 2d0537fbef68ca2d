"""The back office as staff use it, in a real browser: the start page's figures and the revenue charts,
a support conversation with both sides notified through the (fake) Telegram Bot API, the appeal form of
a blocked person, the mailing preview with its image, an export opened and checked, and the pages the
admin actions ask on before they act (hide reviews, block users, erase users) and the grant form.

Screenshots of the pages looked at go to ``$E2E_SCREENSHOTS`` when it is set (else the test's tmp dir).
"""

import csv
import io
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from billing import services as billing
from bookings.models import Booking
from bookings.services import review_create
from bookings.tests.factories import BookingFactory, ResourceFactory
from catalog.tests.factories import OrganizationFactory
from e2e.charts import chart_drawn
from e2e.test_csp import BrowserWatch
from mailings.models import BotSubscriber, Mailing
from mailings.services import mailing_create
from portal.models import User
from portal.services import user_block
from portal.tests.factories import USER_PASSWORD, UserFactory
from portal.tests.images import image_bytes
from portal.tests.mfa import totp_activate
from support.models import Ticket, TicketMessage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("E2E_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return shoot


@pytest.fixture
def staff(db):
    member = UserFactory(is_staff=True, is_superuser=True, first_name="Ольга")
    totp_activate(member)
    return member


def test_the_start_page_shows_todays_figures_and_the_revenue_charts_draw(midday, page, admin_login, staff, shots):
    watch = BrowserWatch(page)
    owner = UserFactory()
    resource = ResourceFactory(organization=OrganizationFactory(owner=owner))
    BookingFactory(resource=resource, starts_at=timezone.now() + timedelta(minutes=20))
    billing.balance_credit(user=owner, amount=Decimal("2500.00"), kind="topup")
    billing.balance_grant(user=owner, amount=Decimal("300.00"), reason="Бонус", created_by=staff)
    Ticket.objects.create(user=owner, subject="Вопрос", text="?")

    admin_login(page, staff)

    expect(page).to_have_title("Панель управления | Citydesk")
    expect(page.locator("#site-name")).to_have_text("Citydesk")
    figures = page.locator(".today-figures")
    expect(figures.locator("[data-figure=bookings_today] .figure-value")).to_have_text("1")
    expect(figures.locator("[data-figure=topups_today] .figure-value")).to_have_text("2\xa0500\xa0₽")
    expect(figures.locator("[data-figure=tickets_waiting] .figure-value")).to_have_text("1")
    shots(page, "admin-index")
    page.set_viewport_size({"width": 1280, "height": 900})
    shots(page, "admin-index-desktop")

    # a figure is a link to the list behind it
    figures.locator("[data-figure=tickets_waiting] a").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator(".ticket-waiting")).to_be_visible()
    shots(page, "admin-tickets-queue")

    # the revenue dashboard: three series per chart, painted pixels, no console error
    page.goto("/admin/billing/revenuereport/")
    for canvas in ("chart-daily", "chart-monthly"):
        drawn = chart_drawn(page, canvas)
        assert drawn["sums"] == [2500, 0, 300], drawn  # top-ups, subscription charges, grants
        assert drawn["painted"] > 1000, drawn
    assert page.evaluate("() => Chart.getChart(document.getElementById('chart-daily')).data.labels.length") == 90
    shots(page, "admin-revenue")
    watch.assert_clean()


def test_a_ticket_conversation_between_a_user_and_staff(page, browser, live_server, login, admin_login, staff,
                                                       fake_telegram, shots, settings):  # fmt: skip
    settings.SITE_URL = live_server.url
    user = UserFactory(first_name="Анна")
    BotSubscriber.objects.create(channel="telegram", chat_id="5001", user=user)
    BotSubscriber.objects.create(channel="telegram", chat_id="5002", user=staff)

    # the user opens a ticket: staff hear of it in the bot
    login(user)
    page.goto("/tickets/new/")
    page.get_by_label("Тема").fill("Не могу отменить бронь")
    page.get_by_label("Что случилось?").fill("Кнопка отмены не отвечает.")
    page.get_by_role("button", name="Отправить").click()
    ticket = Ticket.objects.get(user=user)
    expect(page.get_by_role("heading", name="Не могу отменить бронь")).to_be_visible()
    assert any("Не могу отменить бронь" in p["text"] for _m, p in fake_telegram.messages_to("5002"))

    # staff answer in the admin, with a screenshot of their own
    staff_page = browser.new_context(locale="ru-RU", base_url=live_server.url).new_page()
    try:
        admin_login(staff_page, staff, f"/admin/support/ticket/{ticket.pk}/change/")
        staff_page.fill("textarea[name=reply_text]", "Отменили за вас. Проверьте, пожалуйста.")
        staff_page.locator("input[name=reply_attachment]").set_input_files(
            {"name": "done.png", "mimeType": "image/png", "buffer": image_bytes(size=(200, 120))}
        )
        staff_page.click("input[name=_continue]")
        expect(staff_page.locator("ul.messagelist .success").first).to_be_visible()
        expect(staff_page.locator(".ticket-attachment-thumb")).to_be_visible()
        shots(staff_page, "admin-ticket-conversation")
    finally:
        staff_page.context.close()

    # the answer reaches the user's Telegram chat, with its text
    [(method, params)] = fake_telegram.messages_to("5001")
    assert method == "sendMessage" and "Отменили за вас" in params["text"]

    # the user sees it on the ticket page, with the image, and replies
    page.reload()
    expect(page.locator(".ticket-message-staff")).to_contain_text("Отменили за вас")
    expect(page.locator(".ticket-message-staff img.ticket-attachment")).to_be_visible()
    assert page.evaluate("() => document.querySelector('.ticket-message-staff img').naturalWidth") == 200
    page.get_by_label("Сообщение").fill("Спасибо, всё получилось!")
    page.get_by_role("button", name="Отправить").click()
    expect(page.locator(".ticket-message-user").last).to_contain_text("Спасибо, всё получилось!")
    shots(page, "ticket-conversation")

    # the staff member who answered hears of the reply
    assert any("Спасибо, всё получилось!" in p["text"] for _m, p in fake_telegram.messages_to("5002"))
    assert TicketMessage.objects.filter(ticket=ticket).count() == 2


def test_a_blocked_person_writes_to_support_from_the_login_refusal(page, staff, shots):
    person = UserFactory(email="blocked@example.com")
    user_block(user=person, reason="Спам в отзывах", by=staff)

    page.goto("/accounts/login/")
    page.fill("input[name=login]", person.email)
    page.fill("input[name=password]", USER_PASSWORD)
    page.click("form button[type=submit]")
    page.get_by_role("link", name="Написать в поддержку (вход не нужен)").click()

    expect(page.get_by_role("heading", name="Написать в поддержку без входа")).to_be_visible()
    page.get_by_label("Email вашего аккаунта").fill("blocked@example.com")
    page.get_by_label("Что нужно знать поддержке?").fill("Я не писал спам, это был взлом.")
    shots(page, "appeal-form")
    page.get_by_role("button", name="Отправить").click()

    expect(page.get_by_role("heading", name="Сообщение отправлено")).to_be_visible()
    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.user, ticket.text) == ("appeal", person, "Я не писал спам, это был взлом.")


def test_the_mailing_preview_shows_the_image_and_warns_about_vk(page, admin_login, staff, shots):
    watch = BrowserWatch(page)
    mailing = mailing_create(
        name="Весна",
        text="<b>Весенние скидки</b> в салонах",
        send_at=timezone.now() + timedelta(days=1),
        audience="subscribers",
        channels=["telegram", "vk"],
        buttons=[("Открыть каталог", "https://citydesk.example/catalog/")],
        media=SimpleUploadedFile("spring.png", image_bytes(size=(320, 180), color=(30, 160, 90))),
    )

    admin_login(page, staff, f"/admin/mailings/mailing/{mailing.pk}/change/")

    image = page.locator(".mailing-preview .mailing-media img")
    expect(image).to_be_visible()
    assert page.evaluate("() => document.querySelector('.mailing-preview img').naturalWidth") == 320
    expect(page.locator(".mailing-preview .buttons a")).to_have_text("Открыть каталог")
    expect(page.locator(".mailing-warnings")).to_contain_text("оформление")
    shots(page, "admin-mailing-preview")

    # cancelling asks first, with a clear button
    page.get_by_role("link", name="Отменить рассылку…").click()
    shots(page, "admin-mailing-cancel")
    page.get_by_role("button", name="Да, отменить рассылку").click()
    expect(page.locator("ul.messagelist")).to_be_visible()
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.CANCELLED
    watch.assert_clean()


def test_an_export_is_downloaded_and_reads_right(page, admin_login, staff, shots):
    watch = BrowserWatch(page)
    OrganizationFactory(name="=cmd|'/C calc'!A0", status="published")
    payer = UserFactory(email="payer@example.com")
    billing.balance_credit(user=payer, amount=Decimal("1990.50"), kind="topup")

    admin_login(page, staff, "/admin/billing/ledgerentry/")
    page.get_by_role("link", name="Экспорт").click()
    shots(page, "admin-export")
    page.select_option("select[name=format]", label="xlsx")
    with page.expect_download() as download:
        page.get_by_role("button", name="Экспорт").click()
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    header, *rows = list(workbook.active.iter_rows(values_only=True))
    record = dict(zip(header, rows[0], strict=True))
    assert record["сумма, ₽"] == 1990.5 and record["пользователь"] == "payer@example.com"

    page.goto("/admin/catalog/organization/export/")
    page.select_option("select[name=format]", label="csv")
    with page.expect_download() as download:
        page.get_by_role("button", name="Экспорт").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["название"] == "'=cmd|'/C calc'!A0"
    watch.assert_clean()


def _confirmation(page, shots, changelist: str, pk: int, action: str, *, title: str, listed: str) -> None:
    """Tick one row of an admin list and run ``action`` on it, as staff do; the page that asks first
    is titled ``title``, has it in its trail and lists ``listed``."""
    page.goto(changelist)
    page.check(f"input[name=_selected_action][value='{pk}']")
    page.select_option("select[name=action]", action)
    page.get_by_role("button", name="Выполнить").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.locator(".breadcrumbs")).to_contain_text(title)
    expect(page.locator("#content > ul > li")).to_have_text([listed])
    shots(page, f"admin-action-{action.replace('_', '-')}")


def test_admin_actions_ask_first_and_list_what_they_act_on(page, admin_login, staff, shots):
    watch = BrowserWatch(page)
    author = UserFactory(first_name="Анна", last_name="Иванова")
    resource = ResourceFactory(organization=OrganizationFactory(name="Кофейня «Зерно»"))
    visit = BookingFactory(
        resource=resource,
        user=author,
        starts_at=timezone.now() - timedelta(hours=3),
        ends_at=timezone.now() - timedelta(hours=2),
        status=Booking.Status.COMPLETED,
    )
    review = review_create(user=author, organization=resource.organization, booking=visit, rating=2, text="Долго ждали")
    person = UserFactory(first_name="Пётр", last_name="Петров", email="petr@example.com")
    admin_login(page, staff, "/admin/bookings/review/")

    # hiding reviews: the reviews, a reason, then "Скрыть"
    listed = "Кофейня «Зерно» — 2★ Анна И.: Долго ждали"
    _confirmation(
        page, shots, "/admin/bookings/review/", review.pk, "hide_reviews", title="Скрыть отзывы", listed=listed
    )
    page.get_by_label("Причина").fill("Оскорбления")
    page.get_by_role("button", name="Скрыть").click()
    expect(page.locator("ul.messagelist")).to_contain_text("1 отзыв скрыт.")
    review.refresh_from_db()
    assert (review.is_hidden, review.hidden_reason) == (True, "Оскорбления")

    # blocking users: the people, a reason, then "Заблокировать" and the password again
    listed = "Пётр Петров (petr@example.com)"
    title = "Блокировка пользователей"
    _confirmation(page, shots, "/admin/portal/user/", person.pk, "block_users", title=title, listed=listed)
    page.get_by_label("Причина блокировки").fill("Спам")
    page.get_by_role("button", name="Заблокировать").click()
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.fill("input[name=password]", USER_PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("ul.messagelist")).to_contain_text("Заблокирован 1 пользователь.")
    person.refresh_from_db()
    assert (person.is_blocked, person.blocked_reason) == (True, "Спам")

    # erasing: the people and what cannot be undone, nothing to fill in; "Отмена" leaves them be
    title = "Стереть личные данные"
    _confirmation(page, shots, "/admin/portal/user/", person.pk, "erase_users", title=title, listed=listed)
    expect(page.locator("#content > p")).to_contain_text("Отменить это нельзя.")
    expect(page.locator("#content textarea")).to_have_count(0)
    expect(page.get_by_role("button", name="Стереть")).to_be_visible()
    page.get_by_role("link", name="Отмена").click()
    page.wait_for_url("**/admin/portal/user/")
    assert User.objects.get(pk=person.pk).email == "petr@example.com"

    # the grant form has the same trail back to its list
    page.goto(f"/admin/billing/ledgerentry/grant/?user={person.pk}")
    expect(page.locator(".breadcrumbs")).to_contain_text("Операции по балансу › Начислить на баланс")
    shots(page, "admin-grant")
    watch.assert_clean()
