"""The Telegram and VK channels driven by the real clients against local fake servers."""

import pytest

from mailings.channels import DeliveryError, PermanentDeliveryError, vk
from mailings.channels import telegram as tg
from mailings.models import BotSubscriber
from mailings.tests.factories import BotSubscriberFactory

pytestmark = pytest.mark.django_db


def test_text_message_uses_html_and_buttons_in_order(fake_telegram):
    tg.send_rich(chat_id="42", text="<b>Привет</b>", buttons=[("Первая", "https://a.example"), ("Вторая", "tg://x")])

    [(method, params)] = fake_telegram.sent()
    assert method == "sendMessage"
    assert params["text"] == "<b>Привет</b>"
    assert params["parse_mode"] == "HTML"
    rows = params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in rows] == ["Первая", "Вторая"]
    assert rows[0][0]["url"] == "https://a.example"


@pytest.mark.parametrize(
    "kind,method", [("photo", "sendPhoto"), ("animation", "sendAnimation"), ("video", "sendVideo")]
)
def test_media_goes_with_the_text_as_caption(fake_telegram, kind, method):
    media = tg.Media(kind=kind, content=b"\x89PNG data", filename="m.bin")

    file_id = tg.send_rich(chat_id="7", text="<i>подпись</i>", buttons=[("Сайт", "https://s.example")], media=media)

    [(sent_method, params)] = fake_telegram.sent()
    assert sent_method == method
    assert params["caption"] == "<i>подпись</i>"
    assert params[kind]["size"] == len(b"\x89PNG data")
    assert params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Сайт"
    assert file_id.startswith(kind)


def test_long_caption_falls_back_to_media_then_text_with_buttons(fake_telegram):
    text = "<b>" + "я" * 1100 + "</b>"

    tg.send_rich(
        chat_id="7", text=text, buttons=[("Купить", "https://s.example")], media=tg.Media(kind="photo", file_id="F1")
    )

    [(first, media_params), (second, text_params)] = fake_telegram.sent()
    assert (first, second) == ("sendPhoto", "sendMessage")
    assert "caption" not in media_params and media_params["photo"] == "F1"
    assert text_params["text"] == text
    assert text_params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Купить"


def test_retry_after_is_honoured(fake_telegram):
    fake_telegram.force_429["9"] = 1

    tg.send_rich(chat_id="9", text="hi")

    assert fake_telegram.too_many == 1
    assert len(fake_telegram.messages_to("9")) == 1


def test_blocked_user_is_a_recipient_gone_error(fake_telegram):
    fake_telegram.blocked_chats.add("5")

    with pytest.raises(tg.RecipientGone):
        tg.send_rich(chat_id="5", text="hi")


def test_bad_request_is_permanent_with_the_reason(fake_telegram):
    fake_telegram.bad_chats.add("6")

    with pytest.raises(PermanentDeliveryError, match=r"(?i)chat not found") as info:
        tg.send_rich(chat_id="6", text="hi")
    assert not isinstance(info.value, tg.RecipientGone)


def test_network_error_is_retried_with_backoff(fake_telegram, monkeypatch):
    monkeypatch.setattr(tg, "NETWORK_BACKOFF", (0.01, 0.01, 0.01))
    fake_telegram.drop_connections["8"] = 2

    tg.send_rich(chat_id="8", text="hi")

    assert len(fake_telegram.messages_to("8")) == 1


def test_network_error_that_persists_is_temporary(fake_telegram, monkeypatch):
    monkeypatch.setattr(tg, "NETWORK_BACKOFF", (0.01,))
    fake_telegram.drop_connections["8"] = 5

    with pytest.raises(DeliveryError) as info:
        tg.send_rich(chat_id="8", text="hi")
    assert not isinstance(info.value, PermanentDeliveryError)


def test_vk_send_routes_through_the_session_to_the_fake(fake_vk):
    result = vk.send_to_peers(
        peer_ids=[1, 2], text="Привет", random_id=5, buttons=[("Сайт", "https://s.example"), ("TG", "tg://x")]
    )

    assert result == {1: None, 2: None}
    [params] = fake_vk.send_calls()
    assert params["peer_ids"] == "1,2"
    assert params["access_token"] == "vk-group-token"
    keyboard = __import__("json").loads(params["keyboard"])
    assert [row[0]["action"]["link"] for row in keyboard["buttons"]] == ["https://s.example"]


def test_vk_random_id_deduplicates_a_repeated_call(fake_vk):
    vk.send_to_peers(peer_ids=[1, 2], text="x", random_id=vk.random_id_for("mailing", "1:10"))
    vk.send_to_peers(peer_ids=[1, 2], text="x", random_id=vk.random_id_for("mailing", "1:10"))

    assert fake_vk.count_by_peer() == {1: 1, 2: 1}


def test_vk_per_peer_errors_and_backoff_on_error_6(fake_vk, monkeypatch):
    monkeypatch.setattr(vk, "BACKOFF", (0.01, 0.01))
    fake_vk.blocked_peers[2] = 901
    fake_vk.fail_next.extend([6, 6])

    result = vk.send_to_peers(peer_ids=[1, 2], text="x", random_id=3)

    assert result[1] is None
    assert result[2][0] == 901
    assert len(fake_vk.send_calls()) == 3


def test_vk_photo_is_uploaded_and_saved(fake_vk):
    attachment = vk.upload_message_photo(content=b"img", filename="p.jpg")

    assert attachment.startswith("photo-77_") and attachment.endswith("_k")
    assert fake_vk.uploads == 1


def test_notify_prefers_telegram_then_vk_then_email(user, fake_telegram, fake_vk, django_capture_on_commit_callbacks):
    from django.core import mail

    from mailings.services import notify

    BotSubscriberFactory(channel="vk", chat_id="555", user=user)
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, kind="message", context={"subject": "S", "text": "через VK"}, dedupe_key="n-vk")
    assert fake_vk.count_by_peer() == {555: 1}

    BotSubscriberFactory(channel="telegram", chat_id="777", user=user)
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, kind="message", context={"subject": "S", "text": "через <Telegram>"}, dedupe_key="n-tg")
    [(_, params)] = fake_telegram.messages_to("777")
    assert params["text"] == "через &lt;Telegram&gt;"
    assert fake_vk.count_by_peer() == {555: 1}
    assert mail.outbox == []


def test_notify_falls_through_when_the_user_blocked_the_bot(user, fake_telegram, django_capture_on_commit_callbacks):
    from django.core import mail

    from mailings.services import notify

    subscriber = BotSubscriberFactory(channel="telegram", chat_id="778", user=user)
    fake_telegram.blocked_chats.add("778")
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user=user, kind="message", context={"subject": "S", "text": "t"}, dedupe_key="n-b")

    notification.refresh_from_db()
    subscriber.refresh_from_db()
    assert notification.channel == "email" and notification.status == "sent"
    assert not subscriber.is_active
    assert len(mail.outbox) == 1
    assert BotSubscriber.objects.filter(is_active=True).count() == 0
