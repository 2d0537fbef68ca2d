"""The channels driven by the real clients against local fake servers: sends, batches, media, outcomes."""

import json
import time

import pytest
from django.core import mail

from mailings.channels import Media, Message, SendStatus, get_channel
from mailings.channels import vk as vk_module
from mailings.models import BotSubscriber
from mailings.sending import deliver
from mailings.tests.factories import BotSubscriberFactory

pytestmark = pytest.mark.django_db


def telegram():
    return get_channel("telegram")


def vk():
    return get_channel("vk")


# --- Telegram -------------------------------------------------------------------


def test_text_message_uses_html_and_buttons_in_order(fake_telegram):
    message = Message(html="<b>Привет</b>", buttons=[("Первая", "https://a.example"), ("Вторая", "tg://x")])

    result = telegram().send(address="42", message=message)

    assert result.status == SendStatus.SENT
    [(method, params)] = fake_telegram.sent()
    assert method == "sendMessage"
    assert params["text"] == "<b>Привет</b>"
    assert params["parse_mode"] == "HTML"
    rows = params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in rows] == ["Первая", "Вторая"]
    assert rows[0][0]["url"] == "https://a.example"


def test_plain_text_without_valid_markup_is_escaped(fake_telegram):
    telegram().send(address="43", message=Message(text="<div>x</div>"))

    [(_method, params)] = fake_telegram.sent()
    assert params["text"] == "&lt;div&gt;x&lt;/div&gt;"


@pytest.mark.parametrize(
    "kind,method", [("photo", "sendPhoto"), ("animation", "sendAnimation"), ("video", "sendVideo")]
)
def test_media_goes_with_the_text_as_caption_and_reports_its_handle(fake_telegram, kind, method):
    media = Media(kind=kind, content=b"\x89PNG data", filename="m.bin")
    message = Message(html="<i>подпись</i>", buttons=[("Сайт", "https://s.example")], media=media)

    result = telegram().send(address="7", message=message)

    [(sent_method, params)] = fake_telegram.sent()
    assert sent_method == method
    assert params["caption"] == "<i>подпись</i>"
    assert params[kind]["size"] == len(b"\x89PNG data")
    assert params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Сайт"
    assert result.media_handle.startswith(kind)


def test_long_caption_falls_back_to_media_then_text_with_buttons(fake_telegram):
    text = "<b>" + "я" * 1100 + "</b>"
    message = Message(html=text, buttons=[("Купить", "https://s.example")], media=Media(kind="photo", handle="F1"))

    telegram().send(address="7", message=message)

    [(first, media_params), (second, text_params)] = fake_telegram.sent()
    assert (first, second) == ("sendPhoto", "sendMessage")
    assert "caption" not in media_params and media_params["photo"] == "F1"
    assert text_params["text"] == text
    assert text_params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Купить"


def test_a_short_retry_after_is_waited_out(fake_telegram):
    fake_telegram.force_429["9"] = 1

    result = telegram().send(address="9", message=Message(text="hi"))

    assert result.status == SendStatus.SENT
    assert fake_telegram.too_many == 1
    assert len(fake_telegram.messages_to("9")) == 1


def test_a_long_retry_after_is_reported_not_slept(fake_telegram):
    fake_telegram.retry_after = 30
    fake_telegram.force_429["9"] = 1

    started = time.monotonic()
    result = telegram().send(address="9", message=Message(text="hi"))

    assert time.monotonic() - started < 5
    assert (result.status, result.retry_after) == (SendStatus.RETRY, 30)
    assert fake_telegram.messages_to("9") == []


def test_blocked_user_is_reported_and_unsubscribed_once_by_the_sender(fake_telegram):
    subscriber = BotSubscriberFactory(channel="telegram", chat_id="5")
    fake_telegram.blocked_chats.add("5")

    assert telegram().send(address="5", message=Message(text="hi")).status == SendStatus.BLOCKED
    subscriber.refresh_from_db()
    assert subscriber.is_active  # the channel only reports

    result = deliver(channel=telegram(), address="5", message=Message(text="hi"))

    assert result.status == SendStatus.BLOCKED and "blocked" in result.error
    subscriber.refresh_from_db()
    assert not subscriber.is_active


def test_bad_request_is_a_permanent_failure_with_the_reason(fake_telegram):
    fake_telegram.bad_chats.add("6")

    result = telegram().send(address="6", message=Message(text="hi"))

    assert result.status == SendStatus.FAILED
    assert "chat not found" in result.error.lower()


def test_a_network_error_is_reported_for_a_retry_without_waiting(fake_telegram):
    fake_telegram.drop_connections["8"] = 1

    first = telegram().send(address="8", message=Message(text="hi"))
    second = telegram().send(address="8", message=Message(text="hi"))

    assert first.status == SendStatus.RETRY and first.retry_after is None
    assert second.status == SendStatus.SENT
    assert len(fake_telegram.messages_to("8")) == 1


# --- VK ---------------------------------------------------------------------------


def test_vk_batch_is_one_call_routed_through_the_session_to_the_fake(fake_vk):
    message = Message(text="Привет", buttons=[("Сайт", "https://s.example"), ("TG", "tg://x")])

    results = vk().send_batch(addresses=["1", "2"], message=message, dedupe_key="mailing:1:10")

    assert {address: result.status for address, result in results.items()} == {"1": "sent", "2": "sent"}
    [params] = fake_vk.send_calls()
    assert params["peer_ids"] == "1,2"
    assert params["message"] == "Привет"
    assert params["access_token"] == "vk-group-token"
    keyboard = json.loads(params["keyboard"])
    assert [row[0]["action"]["link"] for row in keyboard["buttons"]] == ["https://s.example"]


def test_vk_dedupe_key_makes_a_repeated_call_harmless(fake_vk):
    for _ in range(2):
        vk().send_batch(addresses=["1", "2"], message=Message(text="x"), dedupe_key="mailing:1:10")

    assert fake_vk.count_by_peer() == {1: 1, 2: 1}


def test_vk_per_peer_errors_and_a_short_wait_on_error_6(fake_vk, monkeypatch):
    monkeypatch.setattr(vk_module, "TOO_MANY_WAIT", 0.01)
    fake_vk.blocked_peers[2] = 901
    fake_vk.blocked_peers[3] = 100
    fake_vk.fail_next.extend([6, 6])

    results = vk().send_batch(addresses=["1", "2", "3"], message=Message(text="x"), dedupe_key="k")

    assert results["1"].status == SendStatus.SENT
    assert results["2"].status == SendStatus.BLOCKED and "901" in results["2"].error
    assert results["3"].status == SendStatus.FAILED
    assert len(fake_vk.send_calls()) == 3


@pytest.mark.parametrize("code", [9, 10, 29])
def test_vk_flood_control_and_server_errors_go_back_to_the_task(fake_vk, code):
    fake_vk.fail_next.append(code)

    results = vk().send_batch(addresses=["1", "2"], message=Message(text="x"), dedupe_key="k")

    assert {result.status for result in results.values()} == {SendStatus.RETRY}
    assert len(fake_vk.send_calls()) == 1


def test_vk_photo_is_uploaded_once_and_its_handle_reused(fake_vk):
    uploaded = vk().upload_media(Media(kind="photo", content=b"img", filename="p.jpg"))

    assert uploaded.status == SendStatus.SENT
    assert uploaded.media_handle.startswith("photo-77_") and uploaded.media_handle.endswith("_k")
    vk().send(address="1", message=Message(text="x", media=Media(kind="photo", handle=uploaded.media_handle)))
    assert fake_vk.uploads == 1
    assert fake_vk.send_calls()[0]["attachment"] == uploaded.media_handle


def test_vk_recipient_gone_unsubscribes_through_the_sender(fake_vk):
    subscriber = BotSubscriberFactory(channel="vk", chat_id="901")
    fake_vk.blocked_peers[901] = 902

    deliver(channel=vk(), address="901", message=Message(text="x"))

    subscriber.refresh_from_db()
    assert not subscriber.is_active


# --- Email ------------------------------------------------------------------------


def test_email_has_the_buttons_as_links_in_both_parts(user):
    message = Message(
        subject="Скидки",
        text="Скидки недели",
        html="<b>Скидки</b>\nнедели",
        buttons=[("Каталог", "https://c.example/?a=1&b=2")],
    )

    result = get_channel("email").send(address=user.email, message=message)

    assert result.status == SendStatus.SENT
    [email] = mail.outbox
    assert (email.subject, email.to) == ("Скидки", [user.email])
    assert email.body == "Скидки недели\n\nКаталог: https://c.example/?a=1&b=2"
    html = email.alternatives[0][0]
    assert html.startswith("<b>Скидки</b><br>\nнедели")
    assert '<a href="https://c.example/?a=1&amp;b=2">Каталог</a>' in html


def test_email_prefers_the_messages_own_html(user):
    get_channel("email").send(address=user.email, message=Message(subject="S", text="T", email_html="<p>T</p>"))

    assert mail.outbox[0].alternatives[0][0] == "<p>T</p>"


# --- notify picks the channel ----------------------------------------------------------


def test_notify_prefers_telegram_then_vk_then_email(user, fake_telegram, fake_vk, django_capture_on_commit_callbacks):
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
