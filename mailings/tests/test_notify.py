import pytest
from django.core import mail

from mailings.models import Notification
from mailings.services import notify, notify_staff

pytestmark = pytest.mark.django_db


def test_notify_renders_and_delivers_by_email_after_commit(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(
            user=user, kind="message", context={"subject": "Привет", "text": "Текст"}, dedupe_key="k1"
        )

    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.channel == "email"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert mail.outbox[0].subject == "Привет"
    assert mail.outbox[0].body == "Текст"


def test_same_dedupe_key_sends_once(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(user=user, kind="message", context={"subject": "A", "text": "a"}, dedupe_key="same")
        second = notify(user=user, kind="message", context={"subject": "A", "text": "a"}, dedupe_key="same")

    assert first is not None
    assert second is None
    assert Notification.objects.filter(dedupe_key="same").count() == 1
    assert len(mail.outbox) == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(user, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                notify(user=user, kind="message", context={"subject": "A", "text": "a"}, dedupe_key="rb")
                raise RuntimeError("boom")
        except RuntimeError:
            pass

    assert callbacks == []
    assert not Notification.objects.filter(dedupe_key="rb").exists()
    assert mail.outbox == []


def test_user_without_email_falls_back_to_console(db, capsys, django_capture_on_commit_callbacks):
    from portal.tests.factories import UserFactory

    user = UserFactory(email=None)
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user=user, kind="message", context={"subject": "S", "text": "T"}, dedupe_key="c1")

    notification.refresh_from_db()
    assert notification.channel == "console"
    assert notification.status == Notification.Status.SENT
    assert "T" in capsys.readouterr().out


def test_redelivery_of_a_sent_notification_does_nothing(user, django_capture_on_commit_callbacks):
    from mailings.services import notification_deliver

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user=user, kind="message", context={"subject": "S", "text": "T"}, dedupe_key="d1")
    notification_deliver(notification_id=notification.pk)

    assert len(mail.outbox) == 1


def test_notify_staff_reaches_every_active_staff_member_once(staff_user, user, django_capture_on_commit_callbacks):
    from portal.tests.factories import UserFactory

    UserFactory(is_staff=True, is_blocked=True)
    with django_capture_on_commit_callbacks(execute=True):
        notify_staff(kind="message", context={"subject": "Оплата", "text": "500 ₽"}, dedupe_key="topup:1")
        notify_staff(kind="message", context={"subject": "Оплата", "text": "500 ₽"}, dedupe_key="topup:1")

    assert [m.to for m in mail.outbox] == [[staff_user.email]]


def test_a_long_retry_after_is_retried_by_the_task_not_slept(
    user, fake_telegram, celery_retries_in_place, django_capture_on_commit_callbacks
):
    from mailings.tests.factories import BotSubscriberFactory

    BotSubscriberFactory(channel="telegram", chat_id="4290", user=user)
    fake_telegram.retry_after = 600
    fake_telegram.force_429["4290"] = 1

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user=user, kind="message", context={"subject": "S", "text": "T"}, dedupe_key="r1")

    notification.refresh_from_db()
    assert (notification.status, notification.channel, notification.attempts) == ("sent", "telegram", 2)
    assert len(fake_telegram.messages_to("4290")) == 1
    assert mail.outbox == []
