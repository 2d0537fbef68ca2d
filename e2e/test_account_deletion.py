"""Account deletion in the browser: profile → deletion page → typed word → logged out and told."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import User
from portal.services import user_is_erased
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_user_deletes_their_account_from_the_profile(page, login, tmp_path):
    user = UserFactory(first_name="Анна", last_name="Смирнова")
    problems = []
    # a failed load shows up twice: as a console error and as the response, which names the URL
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        # the site has no favicon yet; the browser asks for one by itself
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and "/favicon.ico" not in r.url else None,
    )

    login(user)
    page.goto("/profile/")
    page.get_by_role("link", name="Удалить аккаунт…").click()

    expect(page.get_by_role("heading", name="Удаление аккаунта")).to_be_visible()
    expect(page.get_by_role("heading", name="Что будет стёрто")).to_be_visible()
    expect(page.get_by_role("heading", name="Что останется")).to_be_visible()
    page.screenshot(path=str(tmp_path / "account-delete.png"), full_page=True)

    # a wrong word deletes nothing
    page.get_by_label("Введите «УДАЛИТЬ» для подтверждения").fill("нет")
    page.get_by_role("button", name="Удалить мой аккаунт").click()
    expect(page.get_by_text("Чтобы удалить аккаунт, введите точно «УДАЛИТЬ».")).to_be_visible()
    assert User.objects.get(pk=user.pk).is_active

    page.get_by_label("Введите «УДАЛИТЬ» для подтверждения").fill("удалить")
    page.get_by_role("button", name="Удалить мой аккаунт").click()

    expect(page.get_by_text("Ваш аккаунт удалён.")).to_be_visible()
    assert user_is_erased(User.objects.get(pk=user.pk))
    page.goto("/profile/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert problems == []
