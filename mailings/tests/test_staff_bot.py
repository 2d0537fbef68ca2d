"""The Telegram bot's staff menu (/mailings, /stats), the Mini App menu button, and the Mini App
buttons of notifications: through the webhook and the real clients against the local fakes."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from billing.models import LedgerEntry
from billing.services import balance_credit
from bookings.tests.factories import BookingFactory
from mailings.channels import AppLink
from mailings.models import BotSubscriber, Delivery, Mailing
from mailings.services import mailing_create, notify
from mailings.tests.test_bots import SECRET, TG_USER, message_update, post_update
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot(settings, fake_telegram):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_MINIAPP_URL = "https://citydesk.example/"
    return fake_telegram


@pytest.fixture
def staff_chat(db):
    """A staff member whose Telegram chat (5001) is linked to the account."""
    staff = UserFactory(is_staff=True)
    BotSubscriber.objects.create(channel="telegram", chat_id=str(TG_USER["id"]), user=staff)
    return staff


_callback_ids = iter(range(1, 10**6))


def callback_update(data, *, message_id=42, user=TG_USER):
    return {
        "update_id": next(_callback_ids) + 500_000,
        "callback_query": {
            "id": f"cb{message_id}",
            "from": user,
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": 1700000000,
                "chat": {"id": user["id"], "type": "private"},
                "text": "…",
            },
        },
    }


def sent_texts(fake, chat_id=TG_USER["id"]):
    return [params for _m, params in fake.messages_to(chat_id)]


def edits(fake):
    return [params for method, params in fake.calls if method == "editMessageText"]


def make_mailings(count):
    mailings = []
    for n in range(count):
        mailings.append(
            mailing_create(
                name=f"Рассылка {n + 1}",
                text=f"<b>Новости</b> номер {n + 1}",
                send_at=timezone.now() + timedelta(hours=n + 1),
                audience="subscribers",
                channels=["telegram", "vk"],
                buttons=[("Каталог", "https://citydesk.example/catalog/")],
            )
        )
    return mailings


# --- /mailings ----------------------------------------------------------------------------------


def test_staff_see_scheduled_and_sending_mailings_page_by_page(client, bot, staff_chat):
    mailings = make_mailings(7)
    sending = mailings[6]
    Mailing.objects.filter(pk=sending.pk).update(status=Mailing.Status.SENDING, started_at=timezone.now())
    Delivery.objects.bulk_create(
        [Delivery(mailing=sending, channel="telegram", recipient_key=f"tg:{n}", status="sent") for n in range(3)]
        + [Delivery(mailing=sending, channel="telegram", recipient_key="tg:9", status="failed")]
    )
    past = mailing_create(
        name="Прошлая", text="x", send_at=timezone.now() + timedelta(days=9), audience="subscribers", channels=["vk"]
    )
    Mailing.objects.filter(pk=past.pk).update(status=Mailing.Status.SENT)

    post_update(client, message_update("/mailings"))

    [page] = sent_texts(bot)
    assert "стр. 1 из 2" in page["text"]
    # the sending one first, with its progress; scheduled ones with their time; sent ones not at all
    assert "1. <b>Рассылка 7</b>: отправляется: 100%, отправлено 3 из 4, ошибок 1" in page["text"]
    assert "2. <b>Рассылка 1</b>: запланирована на" in page["text"]
    assert "Прошлая" not in page["text"]
    keyboard = page["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0] == {"text": "1. Рассылка 7", "callback_data": f"staff:mailing:{sending.pk}:1"}
    assert keyboard[-1] == [{"text": "Дальше »", "callback_data": "staff:list:2"}]

    post_update(client, callback_update("staff:list:2"))

    [edit] = edits(bot)
    assert str(edit["message_id"]) == "42"
    assert "стр. 2 из 2" in edit["text"] and "6. <b>Рассылка 5</b>" in edit["text"]
    assert edit["reply_markup"]["inline_keyboard"][-1] == [{"text": "« Назад", "callback_data": "staff:list:1"}]
    assert [m for m, _p in bot.calls].count("answerCallbackQuery") == 1


def test_a_mailing_card_shows_the_preview_progress_and_buttons(client, bot, staff_chat):
    [mailing] = make_mailings(1)

    post_update(client, callback_update(f"staff:mailing:{mailing.pk}:3"))

    [card] = edits(bot)
    assert card["text"].startswith("<b>Рассылка 1</b>\nзапланирована на")
    assert "Аудитория: все подписчики ботов; каналы: Telegram, VK" in card["text"]
    assert card["text"].endswith("<b>Предпросмотр:</b>\n<b>Новости</b> номер 1")
    assert card["reply_markup"]["inline_keyboard"] == [
        [{"text": "Каталог", "url": "https://citydesk.example/catalog/"}],
        [{"text": "« К списку", "callback_data": "staff:list:3"}],
    ]


def test_a_mailing_card_names_the_email_channel(client, bot, staff_chat):
    mailing = mailing_create(
        name="Письмо", text="Новости", send_at=timezone.now() + timedelta(hours=1), audience="users",
        channels=["telegram", "email"],
    )  # fmt: skip

    post_update(client, callback_update(f"staff:mailing:{mailing.pk}:1"))

    [card] = edits(bot)
    with translation.override("ru"):
        email = str(dict(Mailing.CHANNEL_CHOICES)["email"])
    assert f"каналы: Telegram, {email}\n" in card["text"]


def test_read_only_nothing_changes(client, bot, staff_chat):
    [mailing] = make_mailings(1)

    post_update(client, message_update("/mailings"))
    post_update(client, callback_update(f"staff:mailing:{mailing.pk}:1"))

    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SCHEDULED


def test_no_mailings_says_so(client, bot, staff_chat):
    post_update(client, message_update("/mailings"))

    [reply] = sent_texts(bot)
    assert reply["text"] == "Нет запланированных или идущих рассылок."


def test_non_staff_get_the_ordinary_help(client, bot):
    member = UserFactory()
    BotSubscriber.objects.create(channel="telegram", chat_id=str(TG_USER["id"]), user=member)
    make_mailings(1)

    post_update(client, message_update("/mailings"))
    post_update(client, message_update("/stats"))
    post_update(client, callback_update("staff:list:1"))

    replies = sent_texts(bot)
    assert len(replies) == 2
    assert all(r["text"].startswith("Команды:") for r in replies)
    assert all("/mailings" not in r["text"] for r in replies)
    assert edits(bot) == []


def test_an_unlinked_chat_or_a_blocked_staff_member_gets_the_help(client, bot, staff_chat):
    staff_chat.is_blocked = True
    staff_chat.save()

    post_update(client, message_update("/stats"))

    [reply] = sent_texts(bot)
    assert reply["text"].startswith("Команды:")


def test_staff_help_lists_the_staff_commands(client, bot, staff_chat):
    post_update(client, message_update("/help"))

    [reply] = sent_texts(bot)
    assert "/mailings" in reply["text"] and "/stats" in reply["text"]


@pytest.mark.parametrize("data", ["staff:list:x", "staff:mailing:1", "staff:drop:1", "other:list:1", "staff:list:1:2"])
def test_unknown_callback_data_is_ignored(client, bot, staff_chat, data):
    response = post_update(client, callback_update(data))

    assert response.status_code == 200
    assert edits(bot) == [] and sent_texts(bot) == []


# --- /stats ---------------------------------------------------------------------------------------


def test_stats_count_todays_bookings_top_ups_and_revenue(client, bot, staff_chat):
    payer = UserFactory()
    balance_credit(user=payer, amount=Decimal("1500.00"), kind=LedgerEntry.Kind.TOPUP, idempotency_key="t1")
    balance_credit(user=payer, amount=Decimal("500.50"), kind=LedgerEntry.Kind.TOPUP, idempotency_key="t2")
    BookingFactory(starts_at=timezone.now() + timedelta(days=3))
    BookingFactory(starts_at=timezone.now() + timedelta(days=3))

    post_update(client, message_update("/stats"))

    [reply] = sent_texts(bot)
    text = reply["text"]
    assert text.startswith("<b>Сегодня, ")
    assert "Новых записей: 2" in text
    assert "Пополнения: 2 на 2\u00a0000,50\u00a0₽" in text
    assert "Выручка (оплаченные подписки): 0 на 0\u00a0₽" in text
    assert "Рассылок отправлено: 0" in text


# --- the Mini App's menu button ---------------------------------------------------------------------


def test_set_telegram_webhook_sets_the_mini_app_menu_button(fake_telegram, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = "hook-secret"
    settings.SITE_URL = "https://citydesk.example"
    settings.TELEGRAM_MINIAPP_URL = "https://citydesk.example/"

    call_command("set_telegram_webhook")

    assert fake_telegram.menu_button["menu_button"] == {
        "type": "web_app",
        "text": "Открыть Citydesk",
        "web_app": {"url": "https://citydesk.example/"},
    }
    assert "callback_query" in fake_telegram.webhook["allowed_updates"]


def test_a_plain_http_mini_app_url_gets_no_menu_button(fake_telegram, settings, capsys):
    settings.TELEGRAM_WEBHOOK_SECRET = "hook-secret"
    settings.TELEGRAM_MINIAPP_URL = "http://127.0.0.1:8000/"

    call_command("set_telegram_webhook")

    assert fake_telegram.webhook is not None
    assert fake_telegram.menu_button is None
    assert "HTTPS" in capsys.readouterr().err


# --- notifications carry a button to their page -----------------------------------------------------


def notify_with_link(user, key="k1"):
    return notify(
        user=user,
        kind="booking_reminder",
        context={
            "organization": "Борода",
            "resource": "Кресло",
            "starts_local": "3 марта, 10:00",
            "ends_local": "11:00",
            "city": "Москва",
            "address": "",
            "url": "/bookings/42/",
        },
        dedupe_key=key,
        app_link=AppLink(text="Открыть запись", path="/bookings/42/", start_param="booking_42"),
    )


def test_a_telegram_notification_opens_its_page_in_the_mini_app(
    settings, fake_telegram, user, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://citydesk.example"
    BotSubscriber.objects.create(channel="telegram", chat_id="6100", user=user)

    with django_capture_on_commit_callbacks(execute=True):
        notify_with_link(user)

    [(_method, params)] = fake_telegram.messages_to(6100)
    assert params["reply_markup"]["inline_keyboard"] == [
        [{"text": "Открыть запись", "web_app": {"url": "https://citydesk.example/bookings/42/"}}]
    ]


def test_without_https_a_telegram_notification_has_no_button(
    settings, fake_telegram, user, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "http://127.0.0.1:8000"
    BotSubscriber.objects.create(channel="telegram", chat_id="6101", user=user)

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify_with_link(user)

    notification.refresh_from_db()
    assert notification.status == "sent"
    [(_method, params)] = fake_telegram.messages_to(6101)
    assert "reply_markup" not in params


def test_a_vk_notification_launches_the_vk_mini_app_on_its_page(
    settings, fake_vk, user, django_capture_on_commit_callbacks
):
    settings.VK_APP_ID = "51234567"
    BotSubscriber.objects.create(channel="vk", chat_id="6200", user=user)

    with django_capture_on_commit_callbacks(execute=True):
        notify_with_link(user)

    [call] = fake_vk.send_calls()
    keyboard = json.loads(call["keyboard"])
    assert keyboard == {
        "inline": True,
        "buttons": [
            [
                {
                    "action": {
                        "type": "open_app",
                        "app_id": 51234567,
                        "hash": "booking_42",
                        "label": "Открыть запись",
                        "owner_id": -77,
                    }
                }
            ]
        ],
    }


def test_without_a_vk_app_the_vk_button_links_to_the_page(settings, fake_vk, user, django_capture_on_commit_callbacks):
    settings.VK_APP_ID = ""
    settings.SITE_URL = "https://citydesk.example"
    BotSubscriber.objects.create(channel="vk", chat_id="6201", user=user)

    with django_capture_on_commit_callbacks(execute=True):
        notify_with_link(user)

    [call] = fake_vk.send_calls()
    [[button]] = json.loads(call["keyboard"])["buttons"]
    assert button["action"] == {
        "type": "open_link",
        "link": "https://citydesk.example/bookings/42/",
        "label": "Открыть запись",
    }
