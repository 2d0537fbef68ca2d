"""Django's cache backends, counted and timed (``citydesk_cache_*``, see portal/metrics.py).

Settings name these classes instead of Django's (``CACHES["default"]["BACKEND"]``);
they behave like the ones they extend. Only the outermost operation is
counted: ``get_or_set`` is what it does (a get, and an add and a get when the
key is missing), and a backend whose ``get_many`` calls ``get`` per key counts
one ``get_many``.

The Redis backend differs from Django's in two ways:

- it keeps one ``redis.Redis`` client per connection pool instead of building
  one per operation (building one costs more than a round trip to Redis); the
  pool hands out connections and is fork-safe (redis-py checks the process id),
  so a client made before gunicorn or Celery forks is still right after;
- it runs Lua scripts (:meth:`RedisCache.script_run`), so a read-modify-write
  such as a rate limiter's costs one round trip.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

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


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's Redis client wrapper, with one ``redis.Redis`` per pool and registered Lua scripts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._scripts: dict[str, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # _get_connection_pool and _client are Django's (not in its stubs).
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client

    def script(self, source: str) -> Any:
        """``source`` as a ``redis.commands.core.Script`` bound to the server that takes writes."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self.get_client(write=True).register_script(source)
        return script


class RedisCache(_Metered, DjangoRedisCache):
    """django.core.cache.backends.redis.RedisCache, metered, with a reused client and Lua scripts."""

    metrics_name = "redis"

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def script_run(self, source: str, *, keys: list[str], args: list, operation: str = "script"):
        """Run the Lua script ``source`` on the cache's Redis in one round trip (EVALSHA; the
        script is loaded the first time the server does not know it).

        ``keys`` are cache keys: they get the cache's prefix and version like every
        other operation's. Values the script reads or writes are raw Redis values, so
        a script may only share keys with integers stored through the cache (Django's
        Redis backend stores integers unpickled). Counted as ``operation``.
        """
        full_keys = [self.make_and_validate_key(key) for key in keys]
        return self._metered(
            operation, lambda: cast(RedisCacheClient, self._cache).script(source)(keys=full_keys, args=args)
        )


class LocMemCache(_Metered, DjangoLocMemCache):
    """django.core.cache.backends.locmem.LocMemCache, metered."""

    metrics_name = "locmem"
