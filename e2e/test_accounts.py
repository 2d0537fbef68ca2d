"""Accounts journey: profile with an avatar, a support ticket, staff answer in the admin."""

import io

import pytest
from django.utils import translation
from PIL import Image
from playwright.sync_api import expect

from portal.tests.factories import UserFactory
from portal.tests.mfa import totp_activate
from support.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def test_profile_ticket_and_status_change_by_staff(page, login, admin_login, browser, live_server):
    user = UserFactory(first_name="Анна", last_name="Смирнова")
    staff = UserFactory(is_staff=True, is_superuser=True)
    totp_activate(staff)

    # the user edits the profile and uploads an avatar
    login(user)
    page.goto("/profile/")
    page.get_by_label("Имя").fill("Мария")
    page.get_by_label("Телефон").fill("8 912 000-11-22")
    page.locator("input[name=avatar_upload]").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": _png()}
    )
    page.locator("form[enctype] button[type=submit]").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.get_by_test_id("avatar")).to_be_visible()
    expect(page.get_by_label("Телефон")).to_have_value("+79120001122")

    # opens a support ticket
    page.goto("/tickets/new/")
    page.get_by_label("Тема").fill("Не приходит письмо")
    page.get_by_label("Что случилось?").fill("Жду подтверждение уже час.")
    page.get_by_role("button", name="Отправить").click()
    expect(page.get_by_role("heading", name="Не приходит письмо")).to_be_visible()
    ticket = Ticket.objects.get(user=user)
    with translation.override("ru"):
        open_label, in_progress_label = str(Ticket.Status.OPEN.label), str(Ticket.Status.IN_PROGRESS.label)
    expect(page.get_by_test_id("ticket-status")).to_have_text(open_label)

    # staff take it into work in the admin, with a comment
    staff_context = browser.new_context(locale="ru-RU", base_url=live_server.url)
    try:
        admin = admin_login(staff_context.new_page(), staff, f"/admin/support/ticket/{ticket.pk}/change/")
        admin.select_option("select[name=new_status]", "in_progress")
        admin.fill("textarea[name=status_comment]", "Проверяем почтовый сервер")
        admin.click("input[name=_save]")
        expect(admin.locator("ul.messagelist")).to_be_visible()
    finally:
        staff_context.close()

    # the user sees the new status and the comment
    page.reload()
    expect(page.get_by_test_id("ticket-status")).to_have_text(in_progress_label)
    expect(page.get_by_text("Проверяем почтовый сервер")).to_be_visible()
