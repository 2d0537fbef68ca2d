"""Cache of the public catalog list.

Every cached entry's key holds the catalog *version* (a counter bumped on any
change to organizations, services, photos, cities, categories or an owner's
block) and the current time *bucket*, so a change is visible at once and a
listing that expires (``listed_until`` passes) leaves the cache within
``CATALOG_LIST_CACHE_SECONDS``.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

VERSION_KEY = "catalog:version"


def cache_seconds() -> int:
    return int(getattr(settings, "CATALOG_LIST_CACHE_SECONDS", 30))


def catalog_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        # A fresh cache (or an eviction) starts a new generation: older entries are unreachable.
        version = int(time.time() * 1000)
        cache.add(VERSION_KEY, version, None)
        version = cache.get(VERSION_KEY, version)
    return int(version)


def catalog_changed() -> None:
    """Invalidate every cached catalog list (called from signals and services)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, int(time.time() * 1000), None)


def list_cache_key(kind: str, params: str) -> str:
    seconds = max(1, cache_seconds())
    bucket = int(time.time() // seconds)
    digest = hashlib.sha1(params.encode(), usedforsecurity=False).hexdigest()
    return f"catalog:list:{kind}:{catalog_version()}:{bucket}:{digest}"
