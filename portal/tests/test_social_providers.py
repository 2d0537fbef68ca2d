import pytest

pytestmark = pytest.mark.django_db


def test_no_provider_buttons_without_credentials(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}

    page = client.get("/accounts/login/").content.decode()

    for provider in ("telegram", "vk", "yandex"):
        assert f"/accounts/{provider}/login/" not in page


def test_configured_providers_show_their_buttons(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "telegram": {"APP": {"client_id": "citydesk_bot", "secret": "123:abc"}},
        "vk": {"APP": {"client_id": "1", "secret": "s"}},
        "yandex": {"APP": {"client_id": "y", "secret": "s"}},
    }

    page = client.get("/accounts/login/").content.decode()

    for provider in ("telegram", "vk", "yandex"):
        assert f"/accounts/{provider}/login/" in page


def test_only_configured_provider_is_shown(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"yandex": {"APP": {"client_id": "y", "secret": "s"}}}

    page = client.get("/accounts/login/").content.decode()

    assert "/accounts/yandex/login/" in page
    assert "/accounts/vk/login/" not in page
    assert "/accounts/telegram/login/" not in page
