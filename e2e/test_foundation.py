"""The first journey: sign up, confirm the email, log in, see the site in Russian."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from portal.tests.emails import confirmation_path

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "marina@example.com"
PASSWORD = "Vesna-2026-parol"


def test_sign_up_confirm_log_in_and_see_the_russian_home_page(page, live_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    # the home page speaks Russian to a Russian browser
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text("Все услуги вашего города в одном месте")
    # mobile layout: open the menu, then go to the sign-up page
    page.get_by_role("button", name="Открыть меню").click()
    page.get_by_role("link", name="Регистрация").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))

    # sign up
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.locator("main")).to_contain_text(EMAIL)

    # the confirmation email arrives with a link; following it asks to confirm
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [EMAIL]
    page.goto(confirmation_path(mail.outbox[0]))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()

    # log out (if the confirmation logged us in) and log in with the new password
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Войти"))
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()

    # the home page, in Russian, for a logged-in user
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Все услуги вашего города в одном месте")
    expect(page.get_by_role("heading", name="Как это работает")).to_be_visible()
    page.get_by_role("button", name="Открыть меню").click()
    page.get_by_role("button", name=EMAIL).click()
    expect(page.get_by_role("link", name="Выйти")).to_be_visible()
    expect(page.get_by_role("link", name="Регистрация")).to_have_count(0)
