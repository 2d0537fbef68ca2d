"""Kill a real Celery worker in the middle of a mailing, start another: one message each."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from mailings.models import BotSubscriber, Delivery, Mailing
from mailings.services import mailing_create, mailings_dispatch_due, mailings_resume_stalled
from mailings.testing.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 200


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(env: dict, queue: str, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            queue,
            "-n",
            f"crash-{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(worker: subprocess.Popen, sig=signal.SIGKILL) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        worker.wait(timeout=20)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_loses_and_duplicates_nothing(settings, tmp_path):
    from portal.celery import app as celery_app

    fake = FakeTelegram(global_rate=10_000, per_chat_rate=5).start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "TELEGRAM_BOT_TOKEN": "123456:CRASH-test",
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_RATE_GLOBAL": "200/second",
        "TELEGRAM_RATE_PER_CHAT": "5/second",
    }
    settings.TELEGRAM_BOT_TOKEN = env["TELEGRAM_BOT_TOKEN"]
    settings.TELEGRAM_API_BASE_URL = fake.base_url
    celery_app.conf.task_always_eager = False
    # A queue of its own: no other worker on this broker can take the batches.
    queue = f"mailings-crash-{uuid.uuid4().hex[:8]}"
    settings.MAILINGS_QUEUE = queue
    log = open(tmp_path / "workers.log", "w")  # noqa: SIM115 - closed in finally
    workers = []
    try:
        BotSubscriber.objects.bulk_create(
            BotSubscriber(channel="telegram", chat_id=str(700_000 + n)) for n in range(RECIPIENTS)
        )
        mailing = mailing_create(
            name="Crash", text="<b>Один раз</b>", send_at=timezone.now(), audience="subscribers", channels=["telegram"]
        )
        fake.hold_after = 60  # the 60th message reaches the server, its answer never comes back

        # given: a worker sending the mailing
        workers.append(_start_worker(env, queue, log))
        assert mailings_dispatch_due() == [mailing.pk]
        if not fake.held.wait(120):
            log.flush()
            pytest.fail("the worker never got to the 60th message:\n" + (tmp_path / "workers.log").read_text()[-3000:])

        # when: it is killed mid-request, and another worker takes over
        _stop(workers[0])
        fake.release.set()
        workers.append(_start_worker(env, queue, log))
        settings.MAILING_DELIVERY_LEASE_SECONDS = 0
        assert mailings_resume_stalled() == [mailing.pk]

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            mailing.refresh_from_db()
            if mailing.status == Mailing.Status.SENT:
                break
            time.sleep(0.2)

        # then: every recipient got exactly one message
        assert mailing.status == Mailing.Status.SENT
        counts = fake.count_by_chat()
        assert len(counts) == RECIPIENTS
        assert set(counts.values()) == {1}
        statuses = dict(Delivery.objects.filter(mailing=mailing).values_list("recipient_key", "status"))
        assert list(statuses.values()).count("sent") == RECIPIENTS - 1
        assert list(statuses.values()).count("failed") == 1  # the in-flight one: arrived, not repeated
    finally:
        for worker in workers:
            _stop(worker)
        log.close()
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
        celery_app.conf.task_always_eager = True
        fake.stop()
