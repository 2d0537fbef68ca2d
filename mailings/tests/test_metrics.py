"""Messages move citydesk_messages_total{channel,result}; mailing progress is exported at scrape time."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from mailings.models import Delivery, Mailing
from mailings.services import notify
from mailings.tests.factories import BotSubscriberFactory
from mailings.tests.test_mailings import make_mailing, run_due
from portal.tests.metrics import sample, scrape

pytestmark = pytest.mark.django_db

RESULTS = [(channel, result) for channel in ("telegram", "vk", "email") for result in ("sent", "failed", "blocked")]


def messages(settings) -> dict[tuple[str, str], float]:
    samples = scrape(Client(), settings)
    return {key: sample(samples, "citydesk_messages_total", channel=key[0], result=key[1]) for key in RESULTS}


def moved(before: dict, after: dict) -> dict:
    return {key: after[key] - before[key] for key in after if after[key] != before[key]}


def test_a_telegram_mailing_counts_sent_blocked_and_failed(fake_telegram, settings):
    _ok, blocked, bad, slow = (BotSubscriberFactory() for _ in range(4))
    fake_telegram.blocked_chats.add(blocked.chat_id)
    fake_telegram.bad_chats.add(bad.chat_id)
    fake_telegram.force_429[slow.chat_id] = 1  # retried inside the send: one message, sent
    mailing = make_mailing()
    before = messages(settings)

    run_due(mailing)

    assert moved(before, messages(settings)) == {
        ("telegram", "sent"): 2,
        ("telegram", "blocked"): 1,
        ("telegram", "failed"): 1,
    }


def test_a_vk_mailing_counts_each_peer(fake_vk, settings):
    for n in range(120):
        BotSubscriberFactory(channel="vk", chat_id=str(20_000 + n))
    fake_vk.blocked_peers[20_007] = 901  # the user left: blocked
    mailing = make_mailing(channels=["vk"])
    before = messages(settings)

    run_due(mailing)

    assert moved(before, messages(settings)) == {("vk", "sent"): 119, ("vk", "blocked"): 1}


def test_a_notification_falling_back_from_a_blocked_bot_counts_both_channels(
    fake_telegram, user, settings, django_capture_on_commit_callbacks
):
    BotSubscriberFactory(channel="telegram", chat_id="4242", user=user)
    fake_telegram.blocked_chats.add("4242")
    before = messages(settings)

    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, kind="message", context={"subject": "S", "text": "t"}, dedupe_key="metrics-fallback")

    assert moved(before, messages(settings)) == {("telegram", "blocked"): 1, ("email", "sent"): 1}


def test_mailing_progress_is_exported_while_it_sends(settings):
    mailing = make_mailing()
    heartbeat = timezone.now() - timedelta(minutes=3)
    Mailing.objects.filter(pk=mailing.pk).update(
        status=Mailing.Status.SENDING, started_at=heartbeat - timedelta(minutes=1), heartbeat_at=heartbeat
    )
    for n, status in enumerate(["sent", "sent", "failed", "pending", "pending", "pending"]):
        Delivery.objects.create(mailing=mailing, channel="telegram", recipient_key=f"tg:{n}", status=status)
    make_mailing(name="Not yet due")  # scheduled: not exported

    samples = scrape(Client(), settings)

    assert sample(samples, "citydesk_mailings_sending") == 1
    label = str(mailing.pk)
    assert sample(samples, "citydesk_mailing_deliveries", mailing=label, status="sent") == 2
    assert sample(samples, "citydesk_mailing_deliveries", mailing=label, status="failed") == 1
    assert sample(samples, "citydesk_mailing_deliveries", mailing=label, status="pending") == 3
    assert sample(samples, "citydesk_mailing_deliveries", mailing=label, status="skipped") == 0
    assert sample(samples, "citydesk_mailing_last_progress_timestamp_seconds", mailing=label) == pytest.approx(
        heartbeat.timestamp()
    )
