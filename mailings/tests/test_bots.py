"""Telegram bot handlers (through the webhook) and the VK Callback API."""

import json

import pytest
from allauth.socialaccount.models import SocialAccount

from mailings.models import BotSubscriber
from mailings.testing import telegram_updates
from mailings.tests.factories import BotSubscriberFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret-webhook"
TG_USER = {"id": 5001, "is_bot": False, "first_name": "Анна", "username": "anna", "language_code": "ru"}


@pytest.fixture
def bot(settings, fake_telegram):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_MINIAPP_URL = "https://citydesk.example/app/"
    return fake_telegram


def message_update(text, *, user=TG_USER, chat_type="private"):
    return telegram_updates.message_update(text, user=user, chat_type=chat_type)


def post_update(client, update, secret=SECRET):
    return telegram_updates.post_update(client, update, secret=secret)


def replies(fake, chat_id=TG_USER["id"]):
    return [params for _m, params in fake.messages_to(chat_id)]


def test_start_subscribes_and_greets_with_the_mini_app_button(client, bot):
    response = post_update(client, message_update("/start"))

    assert response.status_code == 200
    subscriber = BotSubscriber.objects.get(channel="telegram", chat_id="5001")
    assert subscriber.is_active and subscriber.username == "anna" and subscriber.user is None
    [greeting] = replies(bot)
    assert "Анна" in greeting["text"]
    button = greeting["reply_markup"]["inline_keyboard"][0][0]
    assert button["web_app"] == {"url": "https://citydesk.example/app/"}


def test_start_reactivates_a_returning_subscriber_and_links_a_known_telegram_user(client, bot, user):
    BotSubscriberFactory(chat_id="5001", is_active=False)
    SocialAccount.objects.create(user=user, provider="telegram", uid="5001")

    post_update(client, message_update("/start"))

    subscriber = BotSubscriber.objects.get(chat_id="5001")
    assert subscriber.is_active
    assert subscriber.user == user
    assert BotSubscriber.objects.count() == 1


def test_start_link_payload_links_the_account(client, bot, user):
    from portal.services import telegram_link_create

    token, _link, _expires = telegram_link_create(user=user)

    post_update(client, message_update(f"/start link_{token}"))

    assert BotSubscriber.objects.get(chat_id="5001").user == user
    assert SocialAccount.objects.filter(provider="telegram", uid="5001", user=user).exists()
    assert any("linked" in r["text"] or "привязан" in r["text"] for r in replies(bot))


def test_start_link_payload_with_a_bad_token_replies_with_the_reason(client, bot):
    post_update(client, message_update("/start link_nonsense"))

    subscriber = BotSubscriber.objects.get(chat_id="5001")
    assert subscriber.user is None
    texts = [r["text"] for r in replies(bot)]
    assert len(texts) == 2  # the refusal, then the greeting
    assert "недействительна" in texts[0] or "not valid" in texts[0]


def test_start_ref_payload_registers_the_referral(client, bot):
    from referrals.models import Referral
    from referrals.tests.factories import ReferralCodeFactory

    code = ReferralCodeFactory()

    post_update(client, message_update(f"/start ref_{code.code}"))

    subscriber = BotSubscriber.objects.get(chat_id="5001")
    assert subscriber.user is not None
    assert Referral.objects.filter(referred=subscriber.user, referrer=code.user).exists()


def test_start_ref_payload_with_an_unknown_code_replies_with_the_reason(client, bot):
    from referrals.models import Referral

    post_update(client, message_update("/start ref_NOPE"))

    assert not Referral.objects.exists()
    assert len(replies(bot)) == 2


def test_stop_unsubscribes(client, bot):
    BotSubscriberFactory(chat_id="5001")

    post_update(client, message_update("/stop"))

    assert not BotSubscriber.objects.get(chat_id="5001").is_active
    assert len(replies(bot)) == 1


def test_help_lists_the_commands(client, bot):
    post_update(client, message_update("/help"))

    [reply] = replies(bot)
    assert "/bookings" in reply["text"] and "/stop" in reply["text"]


def test_bookings_lists_the_linked_users_upcoming_bookings(client, bot, user):
    from bookings.tests.factories import BookingFactory

    BotSubscriberFactory(chat_id="5001", user=user)
    booking = BookingFactory(user=user)
    BookingFactory()  # someone else's

    post_update(client, message_update("/bookings"))

    [reply] = replies(bot)
    assert booking.resource.organization.name in reply["text"]
    assert reply["text"].count("•") == 1


def test_bookings_asks_an_unlinked_chat_to_link_first(client, bot):
    post_update(client, message_update("/bookings"))

    [reply] = replies(bot)
    assert "•" not in reply["text"]


def test_my_chat_member_kicked_and_member_toggle_active(client, bot):
    BotSubscriberFactory(chat_id="5001")

    def member_update(old, new):
        return {
            "update_id": telegram_updates.next_update_id(),
            "my_chat_member": {
                "chat": {"id": 5001, "type": "private"},
                "from": TG_USER,
                "date": 1700000000,
                "old_chat_member": {
                    "user": {"id": 1, "is_bot": True, "first_name": "bot"},
                    "status": old,
                    **({"until_date": 0} if old == "kicked" else {}),
                },
                "new_chat_member": {
                    "user": {"id": 1, "is_bot": True, "first_name": "bot"},
                    "status": new,
                    **({"until_date": 0} if new == "kicked" else {}),
                },
            },
        }

    post_update(client, member_update("member", "kicked"))
    assert not BotSubscriber.objects.get(chat_id="5001").is_active

    post_update(client, member_update("kicked", "member"))
    assert BotSubscriber.objects.get(chat_id="5001").is_active
    assert replies(bot) == []


@pytest.mark.parametrize("secret", [None, "wrong", ""])
def test_webhook_refuses_a_wrong_or_missing_secret(client, bot, secret):
    response = post_update(client, message_update("/start"), secret=secret)

    assert response.status_code == 403
    assert not BotSubscriber.objects.exists()


def test_webhook_refuses_everything_when_no_secret_is_configured(client, bot, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""

    assert post_update(client, message_update("/start"), secret="").status_code == 403


@pytest.mark.parametrize("body", ["{not json", json.dumps([1, 2]), json.dumps({"message": {}}), "\xff"])
def test_webhook_rejects_malformed_bodies(client, bot, body):
    response = client.post(
        "/telegram/webhook/", data=body, content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET
    )

    assert response.status_code == 400
    assert not BotSubscriber.objects.exists()


def test_webhook_only_takes_post(client, bot):
    assert client.get("/telegram/webhook/").status_code == 405


# --- VK Callback API ---------------------------------------------------------


@pytest.fixture
def vk_settings(settings, fake_vk):
    settings.VK_CALLBACK_SECRET = "vk-secret"
    settings.VK_CONFIRMATION_CODE = "abc123"
    return fake_vk


def vk_post(client, event):
    return client.post("/vk/callback/", data=json.dumps(event), content_type="application/json")


def test_vk_confirmation_returns_the_code(client, vk_settings):
    response = vk_post(client, {"type": "confirmation", "group_id": 77})

    assert response.status_code == 200
    assert response.content == b"abc123"


def test_vk_confirmation_for_another_group_is_refused(client, vk_settings):
    assert vk_post(client, {"type": "confirmation", "group_id": 78}).status_code == 403


def test_vk_message_new_subscribes_and_start_greets(client, vk_settings, django_capture_on_commit_callbacks):
    event = {
        "type": "message_new",
        "group_id": 77,
        "secret": "vk-secret",
        "object": {"message": {"id": 3, "date": 1, "from_id": 9001, "peer_id": 9001, "text": "Начать"}},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = vk_post(client, event)

    assert response.status_code == 200 and response.content == b"ok"
    assert BotSubscriber.objects.get(channel="vk", chat_id="9001").is_active
    assert vk_settings.count_by_peer() == {9001: 1}


def test_vk_allow_and_deny(client, vk_settings):
    base = {"group_id": 77, "secret": "vk-secret", "object": {"user_id": 9002}}

    vk_post(client, {**base, "type": "message_allow"})
    assert BotSubscriber.objects.get(channel="vk", chat_id="9002").is_active

    vk_post(client, {**base, "type": "message_deny"})
    assert not BotSubscriber.objects.get(channel="vk", chat_id="9002").is_active


@pytest.mark.parametrize("secret", [None, "wrong", 5])
def test_vk_events_need_the_secret(client, vk_settings, secret):
    event = {"type": "message_allow", "group_id": 77, "object": {"user_id": 9003}}
    if secret is not None:
        event["secret"] = secret

    response = vk_post(client, event)

    assert response.status_code == 403
    assert not BotSubscriber.objects.exists()


@pytest.mark.parametrize(
    "body",
    ["nope", json.dumps([]), json.dumps({"type": "message_allow", "secret": "vk-secret", "object": {"user_id": "x"}})],
)
def test_vk_malformed_events_are_rejected(client, vk_settings, body):
    response = client.post("/vk/callback/", data=body, content_type="application/json")

    assert response.status_code == 400
    assert not BotSubscriber.objects.exists()


# --- JSON limits: deep, huge or broken bodies are a 400, never a 500 -----------------

DEEP = "[" * 100_000 + "]" * 100_000  # Python's parser gives up with RecursionError
NESTED = "[" * 500 + "]" * 500  # parses, but nests far deeper than JSON_MAX_DEPTH


@pytest.mark.parametrize("body", [DEEP, NESTED, "[" * 100_000, " " * (1024 * 1024 + 1), '{"a": NaN}'])
def test_webhook_answers_deep_huge_or_broken_json_with_400(client, bot, body):
    response = client.post(
        "/telegram/webhook/", data=body, content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET
    )

    assert response.status_code == 400


def test_webhook_checks_the_secret_before_reading_the_body(client, bot):
    response = client.post("/telegram/webhook/", data=DEEP, content_type="application/json")

    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        DEEP,  # the finding: unauthenticated, RecursionError → 500
        '{"type": "message_allow", "secret": "vk-secret", "object": ' + NESTED + "}",
        '{"type": "confirmation", "group_id": 77, "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        " " * (1024 * 1024 + 1),
    ],
)
def test_vk_callback_answers_deep_or_huge_json_with_400(client, vk_settings, body):
    response = client.post("/vk/callback/", data=body, content_type="application/json")

    assert response.status_code == 400
    assert not BotSubscriber.objects.exists()


def test_vk_callback_reads_nothing_when_the_vk_bot_is_not_configured(client, settings):
    settings.VK_CALLBACK_SECRET = ""
    settings.VK_CONFIRMATION_CODE = ""

    assert client.post("/vk/callback/", data=DEEP, content_type="application/json").status_code == 403
