"""The /bookings bot command, which bookings registers with the mailings bot, seen through the webhook."""

import json

import pytest

from bookings.tests.factories import BookingFactory
from mailings.tests.factories import BotSubscriberFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret-webhook"
CHAT_ID = 5101
TG_USER = {"id": CHAT_ID, "is_bot": False, "first_name": "Олег", "language_code": "ru"}


@pytest.fixture
def bot(settings, fake_telegram):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_MINIAPP_URL = "https://citydesk.example/app/"
    return fake_telegram


def send(client, text: str, update_id: int = 1) -> None:
    update = {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "chat": {"id": CHAT_ID, "type": "private"},
            "from": TG_USER,
            "text": text,
        },
    }
    response = client.post(
        "/telegram/webhook/",
        data=json.dumps(update),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )
    assert response.status_code == 200


def replies(fake) -> list[dict]:
    return [params for _method, params in fake.messages_to(CHAT_ID)]


def test_help_lists_the_registered_command_in_russian_as_one_text(client, bot):
    send(client, "/help")

    [reply] = replies(bot)
    assert reply["text"] == (
        "Команды:\n/start — подписаться и открыть приложение\n/bookings — ваши ближайшие бронирования\n"
        "/stop — отписаться от сообщений\n/help — эта справка"
    )


def test_bookings_list_comes_with_the_app_button_and_an_empty_list_without(client, bot, user):
    BotSubscriberFactory(chat_id=str(CHAT_ID), user=user)

    send(client, "/bookings", update_id=1)
    BookingFactory(user=user)
    send(client, "/bookings", update_id=2)

    empty, listed = replies(bot)
    assert empty["text"] == "У вас нет предстоящих бронирований."
    assert "reply_markup" not in empty
    assert listed["text"].startswith("Ваши ближайшие бронирования:\n• ")
    assert listed["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"] == "https://citydesk.example/app/"


def test_a_command_named_like_a_registered_one_with_the_bot_suffix_still_works(client, bot, user):
    BotSubscriberFactory(chat_id=str(CHAT_ID), user=user)

    send(client, "/Bookings@citydesk_bot")

    [reply] = replies(bot)
    assert reply["text"] == "У вас нет предстоящих бронирований."
