"""Django's cache backends, counted and timed (``citydesk_cache_*``, see portal/metrics.py).

Settings name these classes instead of Django's (``CACHES["default"]["BACKEND"]``);
they behave exactly like the ones they extend. Only the outermost operation is
counted: ``get_or_set`` is what it does (a get, and an add and a get when the
key is missing), and a backend whose ``get_many`` calls ``get`` per key counts
one ``get_many``.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from portal.metrics import cache_request_duration_seconds, cache_requests_total

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache as _CacheBase  # what _Metered is mixed into
else:
    _CacheBase = object

_inside = ContextVar("citydesk_cache_metering", default=False)
_MISSING = object()


class _Metered(_CacheBase):
    """Wraps the public operations of a cache backend with counters."""

    metrics_name = "cache"  # the ``cache`` label: the kind of backend

    def _metered(self, operation: str, call, result_of=None):
        if _inside.get():
            return call()
        token = _inside.set(True)
        started = time.perf_counter()
        cache_name = self.metrics_name
        try:
            value = call()
        except Exception as exc:
            # incr of a missing key raises ValueError: that is a miss, not a broken cache.
            result = "miss" if operation == "incr" and isinstance(exc, ValueError) else "error"
            cache_requests_total.labels(cache_name, operation, result).inc()
            raise
        finally:
            _inside.reset(token)
            cache_request_duration_seconds.labels(cache_name, operation).observe(time.perf_counter() - started)
        if result_of is None:
            cache_requests_total.labels(cache_name, operation, "ok").inc()
        else:
            for result, count in result_of(value):
                if count:
                    cache_requests_total.labels(cache_name, operation, result).inc(count)
        return value

    def get(self, key, default=None, version=None):
        value = self._metered(
            "get",
            lambda: super(_Metered, self).get(key, _MISSING, version=version),
            lambda value: [("miss", 1)] if value is _MISSING else [("hit", 1)],
        )
        return default if value is _MISSING else value

    def get_many(self, keys, version=None):
        keys = list(keys)
        return self._metered(
            "get_many",
            lambda: super(_Metered, self).get_many(keys, version=version),
            lambda found: [("hit", len(found)), ("miss", len(keys) - len(found))],
        )

    def has_key(self, key, version=None):
        return self._metered(
            "has_key",
            lambda: super(_Metered, self).has_key(key, version=version),
            lambda found: [("hit", 1)] if found else [("miss", 1)],
        )

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._metered("add", lambda: super(_Metered, self).add(key, value, timeout, version=version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._metered("set", lambda: super(_Metered, self).set(key, value, timeout, version=version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._metered("set_many", lambda: super(_Metered, self).set_many(data, timeout, version=version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._metered("touch", lambda: super(_Metered, self).touch(key, timeout, version=version))

    def delete(self, key, version=None):
        return self._metered("delete", lambda: super(_Metered, self).delete(key, version=version))

    def delete_many(self, keys, version=None):
        return self._metered("delete_many", lambda: super(_Metered, self).delete_many(keys, version=version))

    def incr(self, key, delta=1, version=None):
        return self._metered("incr", lambda: super(_Metered, self).incr(key, delta, version=version))


class RedisCache(_Metered, DjangoRedisCache):
    """django.core.cache.backends.redis.RedisCache, metered."""

    metrics_name = "redis"


class LocMemCache(_Metered, DjangoLocMemCache):
    """django.core.cache.backends.locmem.LocMemCache, metered."""

    metrics_name = "locmem"
