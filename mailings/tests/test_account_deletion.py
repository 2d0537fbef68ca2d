"""portal.signals.user_erasing in mailings: bot chats unlinked, nothing more sent to the account."""

import pytest

from mailings.models import BotSubscriber, Notification
from mailings.services import notification_deliver, notify
from mailings.tests.factories import BotSubscriberFactory
from portal.services import user_delete

pytestmark = pytest.mark.django_db


def test_bot_chats_are_unlinked_and_deactivated(user, other_user):
    telegram = BotSubscriberFactory(user=user, username="anna", first_name="Анна")
    vk = BotSubscriberFactory(user=user, channel="vk")
    theirs = BotSubscriberFactory(user=other_user)

    user_delete(user=user)

    for chat in (telegram, vk):
        chat.refresh_from_db()
        assert (chat.user_id, chat.is_active, chat.username, chat.first_name) == (None, False, "", "")
        assert chat.unsubscribed_at is not None
    theirs.refresh_from_db()
    assert theirs.user_id == other_user.pk and theirs.is_active
    assert not BotSubscriber.objects.filter(user=user).exists()


def test_queued_messages_are_skipped_and_new_ones_not_recorded(user, mailoutbox, django_capture_on_commit_callbacks):
    # queued before the deletion, its delivery task not yet run
    with django_capture_on_commit_callbacks(execute=False):
        queued = notify(user=user, kind="ticket_status", context=_ticket_context(), dedupe_key="t:1")

    user_delete(user=user)

    queued.refresh_from_db()
    assert queued.status == Notification.Status.SKIPPED
    assert notification_deliver(notification_id=queued.pk).status == Notification.Status.SKIPPED
    # a caller holding the user loaded before the deletion: recorded, but never delivered
    with django_capture_on_commit_callbacks(execute=True):
        stale = notify(user=user, kind="ticket_status", context=_ticket_context(), dedupe_key="t:2")
    stale.refresh_from_db()
    assert stale.status == Notification.Status.SKIPPED
    # a fresh load: not even recorded
    user.refresh_from_db()
    assert notify(user=user, kind="ticket_status", context=_ticket_context(), dedupe_key="t:3") is None
    assert not Notification.objects.filter(dedupe_key="t:3").exists()
    assert mailoutbox == []


def _ticket_context() -> dict:
    return {"ticket_id": 1, "subject": "s", "from_status": "open", "to_status": "closed", "comment": "", "url": "/"}
