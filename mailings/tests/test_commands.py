import pytest
from django.core.management import CommandError, call_command

from mailings.models import BotSubscriber

pytestmark = pytest.mark.django_db


def test_set_telegram_webhook_registers_the_url_with_the_secret(fake_telegram, settings, capsys):
    settings.TELEGRAM_WEBHOOK_SECRET = "hook-secret"
    settings.SITE_URL = "https://citydesk.example"

    call_command("set_telegram_webhook")

    assert fake_telegram.webhook["url"] == "https://citydesk.example/telegram/webhook/"
    assert fake_telegram.webhook["secret_token"] == "hook-secret"


def test_set_telegram_webhook_refuses_without_a_secret(fake_telegram, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""

    with pytest.raises(CommandError):
        call_command("set_telegram_webhook")
    assert fake_telegram.webhook is None


def test_runbot_polls_and_runs_the_same_handlers(fake_telegram):
    fake_telegram.updates = [
        {
            "update_id": 10,
            "message": {
                "message_id": 1,
                "date": 1700000000,
                "chat": {"id": 6001, "type": "private"},
                "from": {"id": 6001, "is_bot": False, "first_name": "Пётр"},
                "text": "/start",
            },
        }
    ]

    call_command("runbot", "--once", "--timeout", "0")

    assert BotSubscriber.objects.get(chat_id="6001").is_active
    assert len(fake_telegram.messages_to(6001)) == 1
    assert [m for m, _p in fake_telegram.calls][:3] == ["deleteWebhook", "getMe", "getUpdates"]
