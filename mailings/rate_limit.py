"""A rate limiter shared by every worker process (``limits`` with Redis storage).

``acquire(name, key)`` blocks until the named limit (a setting such as
``TELEGRAM_RATE_GLOBAL = "30/second"``) allows one more hit for ``key``. The
moving window lives in Redis when REDIS_URL is set, so all workers draw from
one budget; without Redis (make run) a process-local memory storage is used.
"""

import threading
import time

from django.conf import settings
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

_lock = threading.Lock()
_limiters: dict[str, MovingWindowRateLimiter] = {}


def _storage_uri() -> str:
    return settings.REDIS_URL or "memory://"


def get_limiter() -> MovingWindowRateLimiter:
    uri = _storage_uri()
    with _lock:
        limiter = _limiters.get(uri)
        if limiter is None:
            limiter = MovingWindowRateLimiter(storage_from_string(uri))
            _limiters[uri] = limiter
        return limiter


def try_acquire(rate: str, key: str) -> bool:
    """One hit for ``key`` under ``rate`` ("30/second") if allowed now."""
    return get_limiter().hit(parse(rate), "citydesk-rate", key)


def acquire(rate: str, key: str, *, timeout: float = 120.0) -> float:
    """Block until ``rate`` allows a hit for ``key``; return the seconds waited.

    Raises TimeoutError after ``timeout`` seconds without a slot.
    """
    limiter = get_limiter()
    item = parse(rate)
    started = time.monotonic()
    while True:
        if limiter.hit(item, "citydesk-rate", key):
            return time.monotonic() - started
        stats = limiter.get_window_stats(item, "citydesk-rate", key)
        wait = max(0.002, min(stats.reset_time - time.time(), 1.0))
        if time.monotonic() - started + wait > timeout:
            raise TimeoutError(f"rate limit {rate} for {key} not available within {timeout}s")
        time.sleep(wait)


def acquire_paced(rate: str, key: str, *, headroom: int = 1, timeout: float = 120.0) -> float:
    """Block until ``rate`` allows a hit for ``key``, with hits spread evenly rather than in bursts.

    The period is cut into ``amount`` slots; each slot admits one hit, claimed
    in the shared storage with a fixed window per slot key. A moving window of
    ``amount - headroom`` per period is the hard limit. Even spacing plus one
    message of headroom keep a server that counts a rolling second (Telegram)
    under its limit although requests reach it a few milliseconds late.
    """
    item = parse(rate)
    slot_length = item.get_expiry() / item.amount
    hard = parse(f"{max(item.amount - headroom, 1)} per {item.get_expiry()} second")
    one = parse("1/second")
    slots = FixedWindowRateLimiter(get_limiter().storage)
    started = time.monotonic()
    while True:
        now = time.time()
        slot = int(now / slot_length)
        if slots.hit(one, "citydesk-slot", key, str(slot)):
            break
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"rate limit {rate} for {key} not available within {timeout}s")
        time.sleep(max((slot + 1) * slot_length - time.time(), 0.001))
    limiter = get_limiter()
    while not limiter.hit(hard, "citydesk-rate", key):
        stats = limiter.get_window_stats(hard, "citydesk-rate", key)
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"rate limit {rate} for {key} not available within {timeout}s")
        time.sleep(max(0.002, min(stats.reset_time - time.time(), 1.0)))
    return time.monotonic() - started


def acquire_telegram(chat_id: str | int, *, timeout: float = 120.0) -> None:
    """Telegram: 1 message/s per chat, 30 messages/s overall, evenly paced (settings); both within ``timeout``."""
    waited = acquire(settings.TELEGRAM_RATE_PER_CHAT, f"tg:chat:{chat_id}", timeout=timeout)
    acquire_paced(settings.TELEGRAM_RATE_GLOBAL, "tg:global", timeout=max(timeout - waited, 0.0))


def acquire_vk(*, timeout: float = 120.0) -> None:
    """VK: API calls per second for the group token (settings.VK_RATE)."""
    acquire(settings.VK_RATE, "vk:global", timeout=timeout)
