"""Journey: A creates a referral code and shares the link; B signs up through it; A sees B."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from portal.tests.emails import confirmation_path
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FRIEND_EMAIL = "friend.boris@example.com"
FRIEND_PASSWORD = "Leto-2026-parol"


def test_a_shares_a_link_b_signs_up_through_it_and_a_sees_b(page, live_server, login, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    alice = UserFactory(email="alice@example.com", first_name="Алиса", last_name="Зайцева")

    # A creates a code on "my referrals" and copies the signup link from the share block
    login(alice)
    page.goto("/referrals/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Пригласить друзей")
    page.get_by_label("Срок действия, дней").fill("10")
    page.get_by_role("button", name="Создать код").click()
    expect(page.get_by_role("alert").first).to_contain_text("активен")
    code = page.get_by_test_id("active-code").inner_text().strip()
    link = page.get_by_label("Ссылка на регистрацию").input_value()
    assert link == f"{live_server.url}/accounts/signup/?ref={code}"
    assert page.get_by_label("Ссылка на нашего Telegram-бота").input_value().endswith(f"?start=ref_{code}")

    # B opens the link in a fresh browser session: the code is already filled in
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_label("Реферальный код")).to_have_value(code)
    page.fill("input[name=email]", FRIEND_EMAIL)
    page.fill("input[name=password1]", FRIEND_PASSWORD)
    page.fill("input[name=password2]", FRIEND_PASSWORD)
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))

    # B confirms the email through the link in the letter; A got a letter about B
    confirmation = next(m for m in mail.outbox if m.to == [FRIEND_EMAIL])
    page.goto(confirmation_path(confirmation))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert [m.to for m in mail.outbox if m.to == [alice.email]] == [[alice.email]]

    # A sees B in "my referrals"
    page.context.clear_cookies()
    login(alice)
    page.goto("/referrals/")
    friends = page.get_by_role("table")
    expect(friends).to_contain_text("fr***@example.com")
    expect(page.locator("main")).to_contain_text("Всего 1 друг")
