"""The cache behind the public "code by email" lookup.

Keys are per normalised email. A hit holds the code and its expiry (or a
"no code" marker); the timeout never outlives the code, so expiry needs no
explicit invalidation. Every code change (create, activate, deactivate,
delete) and every save of the user row that touches ``email``, ``is_active``
or ``is_blocked`` deletes the user's key (on an email change the old
address's key, too) after the transaction commits.
"""

import hashlib
from datetime import datetime
from typing import Final, Literal, TypedDict

from django.core.cache import cache
from django.db import transaction

from portal.models import User


class CachedCode(TypedDict):
    code: str
    expires_at: datetime


MISSING: Final = "none"
# Upper bound for a cached answer; positive answers also stop at the code's expiry.
TIMEOUT_SECONDS = 300
MISSING_TIMEOUT_SECONDS = 60


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def key_for_email(email: str) -> str:
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
    return f"referrals:lookup:{digest}"


def get(email: str) -> CachedCode | Literal["none"] | None:
    """The cached answer for ``email``: the code, MISSING (no usable code), or None (not cached)."""
    cached: CachedCode | Literal["none"] | None = cache.get(key_for_email(email))
    return cached


def set_found(email: str, value: CachedCode, seconds_left: float) -> None:
    timeout = int(min(TIMEOUT_SECONDS, seconds_left))
    if timeout > 0:
        cache.set(key_for_email(email), value, timeout)


def set_missing(email: str) -> None:
    cache.set(key_for_email(email), MISSING, MISSING_TIMEOUT_SECONDS)


def invalidate_email(email: str | None) -> None:
    if email:
        cache.delete(key_for_email(email))


def invalidate_email_on_commit(email: str | None) -> None:
    # Drop it now (so a read inside this request is fresh) and again after commit
    # (so a concurrent reader cannot re-cache the pre-commit state).
    invalidate_email(email)
    transaction.on_commit(lambda: invalidate_email(email))


def invalidate_on_commit(user: User) -> None:
    invalidate_email_on_commit(user.email)
