"""The Telegram side: the bot's /start ref_<code> and the referrer's bot notification (fake Bot API)."""

import pytest
from django.core import mail

from mailings.models import BotSubscriber, Notification
from mailings.testing.telegram_updates import message_update, post_update
from portal.tests.factories import UserFactory
from referrals import services
from referrals.models import Referral
from referrals.tests.factories import ReferralCodeFactory

pytestmark = pytest.mark.django_db
SECRET = "referrals-webhook-secret"


@pytest.fixture
def fake_telegram(fake_telegram, settings):
    """The root fake Bot API, with the webhook secret these tests post with."""
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    return fake_telegram


def _start(client, text, tg_id):
    guest = {"id": tg_id, "is_bot": False, "first_name": "Гость", "language_code": "ru"}
    return post_update(client, message_update(text, user=guest, update_id=tg_id), secret=SECRET)


def test_bot_start_with_ref_records_the_referral(client, fake_telegram, other_user):
    code = ReferralCodeFactory(user=other_user)

    response = _start(client, f"/start ref_{code.code}", 610001)

    assert response.status_code == 200
    referral = Referral.objects.get(referrer=other_user)
    assert referral.source == "bot"
    assert BotSubscriber.objects.get(chat_id="610001").user == referral.referred


def test_bot_start_with_a_bad_code_explains_and_records_nothing(client, fake_telegram):
    response = _start(client, "/start ref_NOPE2345", 610002)

    assert response.status_code == 200
    assert not Referral.objects.exists()
    texts = [params.get("text", "") for _m, params in fake_telegram.messages_to(610002)]
    assert any("не найден" in text for text in texts), texts


def test_referrer_linked_to_telegram_gets_one_email_and_one_bot_message(
    fake_telegram, django_capture_on_commit_callbacks
):
    referrer = UserFactory(email="linked@example.com")
    BotSubscriber.objects.create(channel="telegram", chat_id="620001", user=referrer, is_active=True)
    code = ReferralCodeFactory(user=referrer)

    with django_capture_on_commit_callbacks(execute=True):
        referral = services.referral_apply(
            user=UserFactory(first_name="Вера", last_name=""), code=code.code, source="site"
        )

    assert [m.to for m in mail.outbox] == [["linked@example.com"]]
    notification = Notification.objects.get(user=referrer, kind="referral_joined")
    assert notification.dedupe_key == f"referral:{referral.pk}:joined"
    assert notification.channel == "telegram"
    bot_messages = fake_telegram.messages_to("620001")
    assert len(bot_messages) == 1
    assert "Вера" in bot_messages[0][1]["text"]
