"""Mailings: composition, audiences, dispatch, batches, crash recovery, cancel and the report."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from mailings.models import BotSubscriber, Delivery, Mailing
from mailings.services import (
    mailing_cancel,
    mailing_create,
    mailing_send_batch,
    mailing_send_test,
    mailings_dispatch_due,
    mailings_resume_stalled,
)
from mailings.tests.factories import BotSubscriberFactory
from portal.errors import Conflict, ValidationError
from portal.models import SecurityEvent
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def soon(minutes=10):
    return timezone.now() + timedelta(minutes=minutes)


def make_mailing(**overrides):
    fields = {
        "name": "Новости",
        "text": "<b>Скидки</b> недели",
        "send_at": soon(),
        "audience": "subscribers",
        "channels": ["telegram"],
        "buttons": [("Открыть", "https://citydesk.example/"), ("Каталог", "https://citydesk.example/catalog/")],
    }
    fields.update(overrides)
    return mailing_create(**fields)


def run_due(mailing):
    with time_machine.travel(mailing.send_at + timedelta(seconds=1), tick=True):
        return mailings_dispatch_due()


# --- composition --------------------------------------------------------------


def test_mailing_create_returns_a_scheduled_mailing_with_ordered_buttons():
    mailing = make_mailing()

    assert mailing.status == Mailing.Status.SCHEDULED
    assert list(mailing.buttons.values_list("text", "position")) == [("Открыть", 0), ("Каталог", 1)]


@pytest.mark.parametrize(
    "overrides,code",
    [
        ({"text": "<div>нет</div>"}, "invalid_html"),
        ({"text": "<b>не закрыт"}, "invalid_html"),
        ({"text": '<a href="javascript:alert(1)">x</a>'}, "invalid_html"),
        ({"text": '<span class="red">x</span>'}, "invalid_html"),
        ({"text": '<a href="https://x.example" onclick="steal()">x</a>'}, "invalid_html"),
        ({"buttons": [("Плохая", "ftp://x.example")]}, "invalid_button"),
        ({"buttons": [("", "https://x.example")]}, "invalid_button"),
        ({"channels": ["fax"]}, "invalid_channels"),
        ({"channels": []}, "invalid_channels"),
        ({"audience": "everyone"}, "invalid_audience"),
        ({"audience": "city"}, "city_required"),
        ({"send_at": timezone.now() - timedelta(days=1)}, "send_at_past"),
        ({"media": SimpleUploadedFile("a.exe", b"MZ")}, "invalid_media"),
    ],
)
def test_mailing_create_refuses_bad_input_and_creates_nothing(overrides, code):
    with pytest.raises(ValidationError) as info:
        make_mailing(**overrides)

    assert info.value.code == code
    assert not Mailing.objects.exists()


def test_allowed_telegram_markup_is_accepted():
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>i</ins><s>s</s><strike>s</strike><del>d</del>"
        '<span class="tg-spoiler">sp</span><tg-spoiler>t</tg-spoiler><a href="https://x.example">a</a>'
        '<code>c</code><pre><code class="language-python">p</code></pre><blockquote>q</blockquote> &lt;3'
    )
    assert make_mailing(text=text).status == Mailing.Status.SCHEDULED


@pytest.mark.parametrize("name,kind", [("p.jpg", "photo"), ("a.gif", "animation"), ("v.mp4", "video")])
def test_media_type_comes_from_the_file(name, kind):
    mailing = make_mailing(media=SimpleUploadedFile(name, b"data"))

    assert mailing.media_type == kind
    assert mailing.media.name.endswith(name.rsplit(".", 1)[1])


# --- audiences ------------------------------------------------------------------


def recipients(mailing, channel):
    from mailings.selectors import mailing_recipient_rows

    return sorted(key for key, _s, _u in mailing_recipient_rows(mailing=mailing, channel=channel))


def test_audiences():
    from billing.models import Plan, Subscription
    from catalog.tests.factories import CityFactory, OrganizationFactory

    kazan = CityFactory(name="Казань", slug="kazan", timezone="Europe/Moscow")
    anon = BotSubscriberFactory(chat_id="1")
    plain = BotSubscriberFactory(chat_id="2", user=UserFactory(city=kazan))
    owner = BotSubscriberFactory(chat_id="3", user=UserFactory())
    paying = BotSubscriberFactory(chat_id="4", user=UserFactory())
    BotSubscriberFactory(chat_id="5", user=UserFactory(is_blocked=True))
    BotSubscriberFactory(chat_id="6", is_active=False)
    BotSubscriberFactory(channel="vk", chat_id="7", user=plain.user)
    OrganizationFactory(owner=owner.user, city=kazan)
    org = OrganizationFactory(owner=paying.user)
    plan = Plan.objects.create(name="Месяц", price="990.00")
    Subscription.objects.create(
        organization=org,
        plan=plan,
        status="active",
        current_period_start=timezone.now(),
        current_period_end=soon(60 * 24),
        created_by=paying.user,
    )

    assert recipients(make_mailing(audience="subscribers"), "telegram") == ["tg:1", "tg:2", "tg:3", "tg:4"]
    assert recipients(make_mailing(audience="users"), "telegram") == ["tg:2", "tg:3", "tg:4"]
    assert recipients(make_mailing(audience="owners"), "telegram") == ["tg:3", "tg:4"]
    assert recipients(make_mailing(audience="active_owners"), "telegram") == ["tg:4"]
    assert recipients(make_mailing(audience="city", city=kazan), "telegram") == ["tg:2", "tg:3"]
    assert recipients(make_mailing(audience="users"), "vk") == ["vk:7"]
    emails = recipients(make_mailing(audience="owners", channels=["email"]), "email")
    assert emails == sorted([f"email:{owner.user_id}", f"email:{paying.user_id}"])
    assert anon.user is None


# --- dispatch and sending ---------------------------------------------------------


def test_due_mailing_is_sent_to_each_subscriber_once_and_reported_to_staff(fake_telegram, staff_user):
    from mailings.models import Notification

    subscribers = [BotSubscriberFactory() for _ in range(5)]
    mailing = make_mailing()

    assert mailings_dispatch_due() == []  # not due yet
    assert run_due(mailing) == [mailing.pk]

    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENT
    assert (mailing.total_count, mailing.sent_count, mailing.failed_count) == (5, 5, 0)
    counts = fake_telegram.count_by_chat()
    assert {s.chat_id for s in subscribers} <= set(counts)
    assert all(counts[s.chat_id] == 1 for s in subscribers)
    [(_m, params)] = fake_telegram.messages_to(subscribers[0].chat_id)
    assert params["text"] == "<b>Скидки</b> недели"
    assert [r[0]["text"] for r in params["reply_markup"]["inline_keyboard"]] == ["Открыть", "Каталог"]
    report = Notification.objects.get(kind="mailing_report", user=staff_user)
    assert "5" in report.text
    [logged] = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MAILING_SENT)
    assert (logged.details["mailing_id"], logged.details["sent"], logged.details["total"]) == (mailing.pk, 5, 5)

    assert run_due(mailing) == []  # a second dispatcher run changes nothing
    assert sum(fake_telegram.count_by_chat().values()) == 5
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MAILING_SENT).count() == 1


def test_blocked_bad_and_429_recipients_are_handled(fake_telegram):
    ok, blocked, bad, slow = (BotSubscriberFactory() for _ in range(4))
    fake_telegram.blocked_chats.add(blocked.chat_id)
    fake_telegram.bad_chats.add(bad.chat_id)
    fake_telegram.force_429[slow.chat_id] = 1
    mailing = make_mailing()

    run_due(mailing)

    rows = {d.recipient_key: d for d in Delivery.objects.filter(mailing=mailing)}
    assert rows[f"tg:{ok.chat_id}"].status == "sent"
    assert rows[f"tg:{slow.chat_id}"].status == "sent"
    assert rows[f"tg:{blocked.chat_id}"].status == "failed" and "blocked" in rows[f"tg:{blocked.chat_id}"].error
    assert rows[f"tg:{bad.chat_id}"].status == "failed" and "not found" in rows[f"tg:{bad.chat_id}"].error.lower()
    blocked.refresh_from_db()
    assert not blocked.is_active
    assert fake_telegram.too_many == 1
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent_count, mailing.failed_count) == ("sent", 2, 2)


def test_network_failure_leaves_the_row_pending_for_a_retry(fake_telegram):
    from mailings.sending import DeliveryError

    subscriber = BotSubscriberFactory()
    fake_telegram.drop_connections[subscriber.chat_id] = 10
    mailing = make_mailing()
    with time_machine.travel(mailing.send_at + timedelta(seconds=1), tick=True):
        Mailing.objects.filter(pk=mailing.pk).update(status="sending", started_at=timezone.now())
        from mailings.selectors import mailing_recipient_rows

        for key, sub_id, _user_id in mailing_recipient_rows(mailing=mailing, channel="telegram"):
            Delivery.objects.create(mailing=mailing, channel="telegram", recipient_key=key, subscriber_id=sub_id)
        Mailing.objects.filter(pk=mailing.pk).update(materialized_at=timezone.now())
        delivery = Delivery.objects.get(mailing=mailing)

        with pytest.raises(DeliveryError):
            mailing_send_batch(mailing_id=mailing.pk, channel="telegram", first_id=delivery.pk, last_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "pending"

        fake_telegram.drop_connections.clear()
        mailing_send_batch(mailing_id=mailing.pk, channel="telegram", first_id=delivery.pk, last_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert len(fake_telegram.messages_to(subscriber.chat_id)) == 1


def test_the_batch_task_retries_a_network_failure_and_sends_once(fake_telegram, celery_retries_in_place):
    subscribers = [BotSubscriberFactory() for _ in range(3)]
    fake_telegram.drop_connections[subscribers[1].chat_id] = 1
    mailing = make_mailing()

    run_due(mailing)

    assert fake_telegram.count_by_chat() == {s.chat_id: 1 for s in subscribers}
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent_count, mailing.failed_count) == ("sent", 3, 0)


def test_media_is_uploaded_once_then_reused_by_file_id(fake_telegram):
    subscribers = [BotSubscriberFactory() for _ in range(3)]
    mailing = make_mailing(media=SimpleUploadedFile("p.jpg", b"jpeg-bytes"), text="<i>подпись</i>")

    run_due(mailing)

    photos = [params["photo"] for _m, params in fake_telegram.sent()]
    assert len(photos) == 3
    assert photos[0] == {"filename": "p.jpg", "size": len(b"jpeg-bytes")} or isinstance(photos[0], dict)
    assert all(isinstance(p, str) and p.startswith("photo-file-") for p in photos[1:])
    mailing.refresh_from_db()
    assert mailing.telegram_file_id == photos[1]
    assert len(subscribers) == 3


def test_vk_mailing_groups_peers_uploads_the_photo_once_and_marks_901_inactive(fake_vk):
    for n in range(150):
        BotSubscriberFactory(channel="vk", chat_id=str(10_000 + n))
    fake_vk.blocked_peers[10_005] = 901
    mailing = make_mailing(channels=["vk"], media=SimpleUploadedFile("p.png", b"png"))

    run_due(mailing)

    calls = fake_vk.send_calls()
    assert [len(c["peer_ids"].split(",")) for c in calls] == [100, 50]
    assert len({c["random_id"] for c in calls}) == 2
    assert all(c["attachment"].startswith("photo-77_") for c in calls)
    assert fake_vk.uploads == 1
    assert calls[0]["message"] == "Скидки недели"
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent_count, mailing.failed_count) == ("sent", 149, 1)
    assert not BotSubscriber.objects.get(channel="vk", chat_id="10005").is_active


def test_email_channel_reaches_users_with_an_address(mailoutbox):
    owner = UserFactory()
    from catalog.tests.factories import OrganizationFactory

    OrganizationFactory(owner=owner)
    mailing = make_mailing(channels=["email"], audience="owners")

    run_due(mailing)

    assert [m.to for m in mailoutbox] == [[owner.email]]
    assert "https://citydesk.example/catalog/" in mailoutbox[0].body


def test_blocked_users_and_inactive_subscribers_get_nothing(fake_telegram):
    BotSubscriberFactory(user=UserFactory(is_blocked=True))
    BotSubscriberFactory(is_active=False)
    mailing = make_mailing()

    run_due(mailing)

    assert fake_telegram.sent() == []
    mailing.refresh_from_db()
    assert mailing.status == "sent" and mailing.total_count == 0


def test_cancel_stops_a_sending_mailing_between_batches(fake_telegram):
    subscribers = [BotSubscriberFactory() for _ in range(3)]
    mailing = make_mailing()
    Mailing.objects.filter(pk=mailing.pk).update(status="sending", started_at=timezone.now())
    from mailings.selectors import mailing_recipient_rows

    for key, sub_id, _user in mailing_recipient_rows(mailing=mailing, channel="telegram"):
        Delivery.objects.create(mailing=mailing, channel="telegram", recipient_key=key, subscriber_id=sub_id)
    Mailing.objects.filter(pk=mailing.pk).update(materialized_at=timezone.now())
    ids = list(Delivery.objects.filter(mailing=mailing).order_by("pk").values_list("pk", flat=True))

    mailing_send_batch(mailing_id=mailing.pk, channel="telegram", first_id=ids[0], last_id=ids[0])
    mailing_cancel(mailing=mailing)
    mailing_send_batch(mailing_id=mailing.pk, channel="telegram", first_id=ids[1], last_id=ids[2])

    assert len(fake_telegram.sent()) == 1
    mailing.refresh_from_db()
    assert mailing.status == "cancelled"
    assert (mailing.sent_count, mailing.skipped_count) == (1, 2)
    with pytest.raises(Conflict):
        mailing_cancel(mailing=mailing)
    assert len(subscribers) == 3


def test_resume_after_a_crash_sends_only_the_rest(fake_telegram, settings):
    """A worker died mid-batch: one row sent, one left "sending", the rest pending."""
    subscribers = [BotSubscriberFactory() for _ in range(4)]
    mailing = make_mailing()
    Mailing.objects.filter(pk=mailing.pk).update(status="sending", started_at=timezone.now())
    from mailings.selectors import mailing_recipient_rows

    for key, sub_id, _user in mailing_recipient_rows(mailing=mailing, channel="telegram"):
        Delivery.objects.create(mailing=mailing, channel="telegram", recipient_key=key, subscriber_id=sub_id)
    Mailing.objects.filter(pk=mailing.pk).update(materialized_at=timezone.now(), heartbeat_at=timezone.now())
    rows = list(Delivery.objects.filter(mailing=mailing).order_by("pk"))
    # the dead worker's progress: first delivered, second in flight
    from mailings.channels import Message, get_channel

    get_channel("telegram").send(address=subscribers[0].chat_id, message=Message(html=mailing.text))
    Delivery.objects.filter(pk=rows[0].pk).update(status="sent", sent_at=timezone.now())
    get_channel("telegram").send(address=subscribers[1].chat_id, message=Message(html=mailing.text))
    Delivery.objects.filter(pk=rows[1].pk).update(status="sending", claimed_at=timezone.now(), claimed_by="dead")

    settings.MAILING_DELIVERY_LEASE_SECONDS = 60
    assert mailings_resume_stalled() == []  # still within the lease
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
        assert mailings_resume_stalled() == [mailing.pk]

    assert fake_telegram.count_by_chat() == {s.chat_id: 1 for s in subscribers}
    mailing.refresh_from_db()
    assert mailing.status == "sent"
    assert Delivery.objects.get(pk=rows[1].pk).status == "failed"


def test_vk_orphans_are_resent_with_the_same_random_id(fake_vk, settings):
    for n in range(3):
        BotSubscriberFactory(channel="vk", chat_id=str(20_000 + n))
    mailing = make_mailing(channels=["vk"])
    Mailing.objects.filter(pk=mailing.pk).update(status="sending", started_at=timezone.now())
    from mailings.channels import Message, get_channel
    from mailings.selectors import mailing_recipient_rows

    for key, sub_id, _user in mailing_recipient_rows(mailing=mailing, channel="vk"):
        Delivery.objects.create(mailing=mailing, channel="vk", recipient_key=key, subscriber_id=sub_id)
    first = Delivery.objects.filter(mailing=mailing).order_by("pk").first()
    batch_key = f"{mailing.pk}:{first.pk}"
    # the dead worker's call reached VK, but it died before recording it
    get_channel("vk").send_batch(
        addresses=["20000", "20001", "20002"], message=Message(text="x"), dedupe_key=f"mailing:{batch_key}"
    )
    Delivery.objects.filter(mailing=mailing).update(
        status="sending", batch_key=batch_key, claimed_at=timezone.now() - timedelta(hours=1)
    )
    Mailing.objects.filter(pk=mailing.pk).update(materialized_at=timezone.now(), heartbeat_at=None)

    mailings_resume_stalled()

    assert fake_vk.count_by_peer() == {20_000: 1, 20_001: 1, 20_002: 1}
    assert len(fake_vk.send_calls()) == 2
    assert Delivery.objects.filter(mailing=mailing, status="sent").count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_claim_a_mailing_once(fake_telegram):
    for _ in range(3):
        BotSubscriberFactory()
    mailing = make_mailing()
    claimed, errors = [], []
    barrier = threading.Barrier(2)

    def dispatcher():
        try:
            barrier.wait()
            with time_machine.travel(mailing.send_at + timedelta(seconds=1), tick=True):
                claimed.extend(mailings_dispatch_due())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert claimed == [mailing.pk]
    assert sorted(fake_telegram.count_by_chat().values()) == [1, 1, 1]


def test_send_test_to_me_uses_the_staff_users_linked_channels(fake_telegram, staff_user, mailoutbox):
    BotSubscriberFactory(chat_id="31337", user=staff_user)
    mailing = make_mailing(channels=["telegram", "email"])

    assert mailing_send_test(mailing=mailing, user=staff_user) == ["telegram", "email"]

    assert len(fake_telegram.messages_to("31337")) == 1
    assert [m.to for m in mailoutbox] == [[staff_user.email]]
    assert not Delivery.objects.exists()


def test_send_test_to_an_unreachable_user_is_refused(fake_telegram, staff_user):
    mailing = make_mailing()

    with pytest.raises(ValidationError):
        mailing_send_test(mailing=mailing, user=staff_user)
    assert fake_telegram.sent() == []


@pytest.mark.parametrize("channel", ["telegram", "vk"])
def test_recipients_blocked_or_unsubscribed_after_listing_are_skipped(fake_telegram, fake_vk, channel):
    from mailings.selectors import mailing_recipient_rows

    blocked = BotSubscriberFactory(channel=channel, user=UserFactory())
    gone = BotSubscriberFactory(channel=channel)
    kept = BotSubscriberFactory(channel=channel)
    mailing = make_mailing(channels=[channel])
    Mailing.objects.filter(pk=mailing.pk).update(status="sending", started_at=timezone.now())
    for key, sub_id, user_id in mailing_recipient_rows(mailing=mailing, channel=channel):
        Delivery.objects.create(
            mailing=mailing, channel=channel, recipient_key=key, subscriber_id=sub_id, user_id=user_id
        )
    Mailing.objects.filter(pk=mailing.pk).update(materialized_at=timezone.now())
    blocked.user.is_blocked = True
    blocked.user.save(update_fields=["is_blocked"])
    BotSubscriber.objects.filter(pk=gone.pk).update(is_active=False)
    ids = list(Delivery.objects.filter(mailing=mailing).values_list("pk", flat=True))

    mailing_send_batch(mailing_id=mailing.pk, channel=channel, first_id=min(ids), last_id=max(ids))

    statuses = dict(Delivery.objects.filter(mailing=mailing).values_list("subscriber_id", "status"))
    assert statuses == {blocked.pk: "skipped", gone.pk: "skipped", kept.pk: "sent"}
    mailing.refresh_from_db()
    assert mailing.status == "sent"
