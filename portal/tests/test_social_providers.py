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


def test_settings_configure_telegram_login_from_the_bot_token():
    import json
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": "7012345678:AAE-secret",
        "VK_OAUTH_CLIENT_ID": "",
        "YANDEX_CLIENT_ID": "",
    }
    env.pop("DATABASE_URL", None)
    code = "from portal import settings as s; import json; print(json.dumps(s.SOCIALACCOUNT_PROVIDERS))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)

    providers = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(providers) == {"telegram"}
    assert providers["telegram"]["APP"] == {"client_id": "7012345678", "secret": "7012345678:AAE-secret"}


TOKEN = "7012345678:AAE-secret"


@pytest.fixture
def telegram_site_login(settings):
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.SOCIALACCOUNT_PROVIDERS = {
        "telegram": {"APP": {"client_id": "7012345678", "secret": TOKEN}, "AUTH_PARAMS": {"auth_date_validity": 30}}
    }

    def login(client, telegram_id: int):
        """Go through allauth's Telegram login as the widget would: redirect, then the signed callback."""
        import base64
        import hashlib
        import hmac
        import json
        import time
        from urllib.parse import parse_qs, urlparse

        redirect = client.post("/accounts/telegram/login/")
        assert redirect.status_code == 302
        location = urlparse(redirect["Location"])
        assert location.netloc == "oauth.telegram.org"
        assert parse_qs(location.query)["bot_id"] == ["7012345678"]
        return_to = urlparse(parse_qs(location.query)["return_to"][0])
        data = {"id": telegram_id, "first_name": "Влад", "auth_date": int(time.time())}
        check = "\n".join(sorted(f"{k}={v}" for k, v in data.items()))
        data["hash"] = hmac.new(hashlib.sha256(TOKEN.encode()).digest(), check.encode(), hashlib.sha256).hexdigest()
        result = base64.b64encode(json.dumps(data).encode()).decode()
        return client.post(f"{return_to.path}?{return_to.query}", {"tgAuthResult": result}, follow=True)

    return login


def test_website_telegram_login_and_mini_app_are_the_same_user(client, api_client, telegram_site_login):
    from allauth.socialaccount.models import SocialAccount

    from portal.tests.miniapp_signing import telegram_init_data

    # first seen in the Mini App
    me = api_client.get(
        "/api/v1/me/", HTTP_AUTHORIZATION=f"tma {telegram_init_data(user={'id': 4242}, bot_token=TOKEN)}"
    )
    assert me.status_code == 200

    # then logs in on the website with the Telegram login widget
    telegram_site_login(client, 4242)

    assert SocialAccount.objects.filter(provider="telegram").count() == 1
    assert client.get("/api/v1/me/").json()["id"] == me.json()["id"]


def test_website_telegram_login_signs_up_a_new_user(client, telegram_site_login):
    telegram_site_login(client, 5151)

    assert client.get("/api/v1/me/").json()["first_name"] == "Влад"


def test_blocked_user_cannot_log_in_with_telegram_on_the_website(client, telegram_site_login, staff_user):
    from portal.services import telegram_user_get_or_create, user_block

    user, _created = telegram_user_get_or_create(telegram_user={"id": 6161})
    user_block(user=user, reason="spam", by=staff_user)

    response = telegram_site_login(client, 6161)

    assert client.get("/api/v1/me/").status_code == 401
    assert "заблокирован" in response.content.decode()
