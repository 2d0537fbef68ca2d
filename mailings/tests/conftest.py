import pytest

from mailings.testing.fake_telegram import FakeTelegram
from mailings.testing.fake_vk import FakeVK


@pytest.fixture
def fake_telegram(settings):
    with FakeTelegram(global_rate=1000, per_chat_rate=5) as fake:
        settings.TELEGRAM_BOT_TOKEN = "123456:TEST-token"
        settings.TELEGRAM_API_BASE_URL = fake.base_url
        settings.TELEGRAM_RATE_GLOBAL = "1000/second"
        settings.TELEGRAM_RATE_PER_CHAT = "5/second"
        yield fake


@pytest.fixture
def fake_vk(settings):
    with FakeVK(group_id=77) as fake:
        settings.VK_GROUP_TOKEN = "vk-group-token"
        settings.VK_GROUP_ID = "77"
        settings.VK_API_BASE_URL = fake.base_url
        settings.VK_RATE = "1000/second"
        yield fake
