"""Cache of the public catalog: lists, pickers, the search vocabulary.

Every entry is stored with the catalog *version* it was computed for (a
counter bumped on any change to organizations, services, photos, cities,
categories or an owner's block) and is used only while that version is
current, so a change is visible at once. Reading an entry reads the version in
the same round trip (``MGET`` of both keys): a cached public list costs one
round trip to Redis. List keys also hold the current time *bucket*, so a
listing that expires (``listed_until`` passes) leaves the cache within
``CATALOG_LIST_CACHE_SECONDS``.
"""

import hashlib
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

VERSION_KEY = "catalog:version"


def cache_seconds() -> int:
    return int(getattr(settings, "CATALOG_LIST_CACHE_SECONDS", 30))


def _version_start() -> int:
    # A fresh cache (or an eviction) starts a new generation: older entries are unreachable.
    version = int(time.time() * 1000)
    cache.add(VERSION_KEY, version, None)
    return int(cache.get(VERSION_KEY, version))


def catalog_changed() -> None:
    """Invalidate every cached catalog entry (called from signals and services)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, int(time.time() * 1000), None)


def versioned_get(key: str) -> tuple[Any, int]:
    """The value cached under ``key`` for the current catalog version (None when there is
    none, or only an older version's) and the current version, in one round trip.

    Store a fresh value with ``versioned_set(key, value, timeout, version=<that version>)``:
    a change made while it was being computed bumps the version, so the value is not
    served after it.
    """
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY)
    version = _version_start() if version is None else int(version)
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
        return entry[1], version
    return None, version


def versioned_set(key: str, value: Any, timeout: int, *, version: int) -> None:
    """Cache ``value`` under ``key`` for catalog ``version`` (see ``versioned_get``)."""
    cache.set(key, (version, value), timeout)


def list_cache_key(kind: str, params: str) -> str:
    """The key of a cached list: its kind, the time bucket and a digest of its parameters."""
    seconds = max(1, cache_seconds())
    bucket = int(time.time() // seconds)
    digest = hashlib.sha1(params.encode(), usedforsecurity=False).hexdigest()
    return f"catalog:list:{kind}:{bucket}:{digest}"
