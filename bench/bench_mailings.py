"""Mailing fan-out benchmark.

1. Telegram: 3,000 subscribers, 2 real Celery worker processes (Redis broker)
   against the local fake Bot API that answers 429 above 30 messages/s and
   1/s per chat. Reports the rate (ratio to 30/s), time, 429s, duplicates, losses.
2. VK: 10,000 and 100,000 subscribers (fake answers instantly, VK_RATE raised),
   2 workers each time (fresh processes): recipients per messages.send call and
   the workers' peak RSS (dispatch, listing of deliveries and sending all run in
   the workers) — memory must stay flat in the number of recipients.

Runs in a child process with its own database (citydesk_bench_mailings) and
Redis db 9: ``python -m bench mailings``. Env: BENCH_PG (server URL without the
database name, default postgres://postgres@127.0.0.1:5432), BENCH_REDIS_URL.
"""

import os
import subprocess
import sys
import time

from bench.support import ROOT, create_database, run_child, stop

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "citydesk_bench_mailings"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
TELEGRAM_RECIPIENTS = int(os.environ.get("BENCH_TELEGRAM_RECIPIENTS", "3000"))
VK_SIZES = [int(n) for n in os.environ.get("BENCH_VK_SIZES", "10000,100000").split(",") if n.strip()]


def main() -> int:
    env = {
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "DJANGO_DEBUG": "1",
        "LOG_LEVEL": "WARNING",
    }
    return run_child("bench.bench_mailings", env)


# --- inside the child process -------------------------------------------------------


def _start_workers(n: int, extra_env: dict) -> list[subprocess.Popen]:
    env = {**os.environ, **extra_env}
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--loglevel=ERROR",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench{i}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for i in range(n)
    ]


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset(channel: str, count: int) -> None:
    from mailings.models import BotSubscriber, Delivery, Mailing, Notification

    Delivery.objects.all().delete()
    Mailing.objects.all().delete()
    Notification.objects.all().delete()
    BotSubscriber.objects.all().delete()
    batch = []
    for n in range(count):
        batch.append(BotSubscriber(channel=channel, chat_id=str(1_000_000 + n)))
        if len(batch) == 10_000:
            BotSubscriber.objects.bulk_create(batch)
            batch = []
    if batch:
        BotSubscriber.objects.bulk_create(batch)


def _create_mailing(channel: str):
    from django.utils import timezone

    from mailings.services import mailing_create

    return mailing_create(
        name=f"bench {channel}",
        text="<b>Новости города</b>\nСкидки недели в каталоге.",
        send_at=timezone.now(),
        audience="subscribers",
        channels=[channel],
        buttons=[("Открыть", "https://citydesk.example/")],
    )


def _wait_sent(mailing, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        mailing.refresh_from_db()
        if mailing.status == "sent":
            return time.monotonic() - started
        time.sleep(0.25)
    raise TimeoutError(f"mailing {mailing.pk} not finished in {timeout}s (status {mailing.status})")


def _bench_telegram() -> dict:
    from mailings.tasks import dispatch_due_mailings
    from mailings.testing.fake_telegram import FakeTelegram

    _reset("telegram", TELEGRAM_RECIPIENTS)
    fake = FakeTelegram(global_rate=30, per_chat_rate=1, retry_after=1).start()
    workers = _start_workers(
        2,
        {
            "TELEGRAM_BOT_TOKEN": "123456:BENCH",
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_RATE_GLOBAL": os.environ.get("BENCH_TELEGRAM_RATE", "30/second"),
            "TELEGRAM_RATE_PER_CHAT": "1/second",
        },
    )
    try:
        time.sleep(3)  # let the workers connect
        mailing = _create_mailing("telegram")
        dispatch_due_mailings.delay()
        total = _wait_sent(mailing, timeout=TELEGRAM_RECIPIENTS / 20 + 120)
    finally:
        stop(*workers, timeout=30)
        fake.stop()
    counts = fake.count_by_chat()
    times = fake.accepted_times
    span = times[-1] - times[0] if len(times) > 1 else 0
    rate = (len(times) - 1) / span if span else 0
    return {
        "recipients": TELEGRAM_RECIPIENTS,
        "messages": len(times),
        "send_seconds": span,
        "total_seconds": total,
        "rate": rate,
        "ratio": rate / 30,
        "too_many": fake.too_many,
        "duplicates": sum(1 for v in counts.values() if v > 1),
        "lost": TELEGRAM_RECIPIENTS - len(counts),
        "sent_count": mailing.sent_count,
    }


def _bench_vk(size: int) -> dict:
    from mailings.tasks import dispatch_due_mailings
    from mailings.testing.fake_vk import FakeVK

    _reset("vk", size)
    fake = FakeVK(group_id=1).start()
    workers = _start_workers(
        2, {"VK_GROUP_TOKEN": "bench", "VK_GROUP_ID": "1", "VK_API_BASE_URL": fake.base_url, "VK_RATE": "1000/second"}
    )
    try:
        time.sleep(3)
        mailing = _create_mailing("vk")
        dispatch_due_mailings.delay()
        total = _wait_sent(mailing, timeout=600)
        peaks = [_peak_rss_mb(w.pid) for w in workers]
    finally:
        stop(*workers, timeout=30)
        fake.stop()
    calls = fake.send_calls()
    peers = sum(len(c["peer_ids"].split(",")) for c in calls)
    counts = fake.count_by_peer()
    return {
        "recipients": size,
        "calls": len(calls),
        "per_call": peers / len(calls) if calls else 0,
        "seconds": total,
        "peak_rss_mb": max(peaks),
        "duplicates": sum(1 for v in counts.values() if v > 1),
        "lost": size - len(counts),
    }


def run() -> int:
    create_database(PG, DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    from portal.celery import app

    call_command("migrate", verbosity=0)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    app.conf.task_always_eager = False

    tg = _bench_telegram()
    print()
    print("Telegram (fake Bot API enforcing 30 msg/s, 1/s per chat; 2 Celery worker processes)")
    header = ("recipients", 10), ("messages", 9), ("send s", 7), ("total s", 8), ("msg/s", 6), ("÷30", 5)
    print(" ".join(f"{name:>{width}}" for name, width in header), f"{'429s':>5} {'dups':>5} {'lost':>5}")
    print(
        f"{tg['recipients']:>10} {tg['messages']:>9} {tg['send_seconds']:>7.1f} {tg['total_seconds']:>8.1f} "
        f"{tg['rate']:>6.2f} {tg['ratio']:>5.2f} {tg['too_many']:>5} {tg['duplicates']:>5} {tg['lost']:>5}"
    )
    vk_rows = [_bench_vk(size) for size in VK_SIZES]
    print()
    print("VK (fake API, instant; 2 Celery worker processes; dispatch + listing + sending in the workers)")
    print(
        f"{'recipients':>10} {'calls':>6} {'peers/call':>10} {'seconds':>8} {'peak RSS MB':>12} {'dups':>5} {'lost':>5}"
    )
    for row in vk_rows:
        print(
            f"{row['recipients']:>10} {row['calls']:>6} {row['per_call']:>10.1f} {row['seconds']:>8.1f} "
            f"{row['peak_rss_mb']:>12.1f} {row['duplicates']:>5} {row['lost']:>5}"
        )
    if len(vk_rows) >= 2:
        low, high = vk_rows[0]["peak_rss_mb"], vk_rows[-1]["peak_rss_mb"]
        print(f"peak RSS {vk_rows[-1]['recipients']} vs {vk_rows[0]['recipients']}: {100 * (high - low) / low:+.1f}%")
    redis.Redis.from_url(REDIS_URL).flushdb()
    ok = tg["ratio"] >= 0.9 and tg["duplicates"] == 0 and tg["lost"] == 0
    ok = ok and all(r["per_call"] >= 90 and r["duplicates"] == 0 and r["lost"] == 0 for r in vk_rows)
    print("\nresult:", "OK" if ok else "BELOW TARGET")
    return 0


if __name__ == "__main__" and "--run" in sys.argv:
    sys.exit(run())
