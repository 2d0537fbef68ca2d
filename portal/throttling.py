"""One throttle policy for the API and the HTML forms.

Every write a stranger or a user can repeat counts against a named *scope*
(signup, invite, ticket, topup, upload…). A scope's rate is set once, in
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (env ``API_THROTTLE_<SCOPE>``),
and both front doors count in the same place:

- DRF views use :class:`ScopedThrottle` / :class:`WriteThrottle` (and the
  global :class:`AnonThrottle` / :class:`UserThrottle`);
- Django views use :func:`throttle` (a decorator answering 429) or
  :func:`throttle_hit` (to turn a refusal into a form error).

The counter for a request is ``throttle:<scope>:user:<id>`` for a signed-in
user and ``throttle:<scope>:ip:<address>`` otherwise, the address being
:func:`portal.client_address.client_ip` (``X-Forwarded-For`` is believed only
behind ``TRUSTED_PROXY_COUNT`` proxies). So ten tickets opened through the
Mini App and one through the site are eleven tickets for that user.

Counters live in the Django cache (Redis when ``REDIS_URL`` is set, shared by
every web process). The window slides: the estimate is the current fixed
window's count plus the previous window's count weighted by how much of it
still overlaps the last ``period`` seconds (the approach Cloudflare describes
for its rate limiting), so a client gets no double burst at a window edge.
A refused request is not counted.

On Redis one Lua script counts a request against all its scopes at once
(``INCR`` the current window, read the previous one, decide, ``DECR`` a
refusal), atomically and in one round trip: an API request with the global
scope and a view's scope costs one round trip for both. Other cache backends
(``make run`` without Redis) do the same steps through the cache API.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, cast

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from portal.client_address import client_ip

if TYPE_CHECKING:
    from portal.metered_cache import RedisCache

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

#: The scopes of the policy and what each covers (docs/security.md has the table with rates).
SCOPES = {
    "anon": "every API request of an anonymous client",
    "user": "every API request of a signed-in user",
    "sensitive": "Mini App session, Telegram link, booking check-in (API)",
    "signup": "creating an account on the site",
    "password_reset": "asking for a password reset email",
    "invite": "inviting a participant to a booking (API and page)",
    "ticket": "opening a support ticket (API and page)",
    "ticket_message": "writing in a support ticket's conversation (API and page)",
    "appeal": "the no-login appeal form of a blocked person",
    "topup": "starting a top-up (API and page)",
    "upload": "image uploads: avatar, organization logo and photos (API and pages)",
    "referral_lookup": "looking up a referral code by email (API)",
    "referral_apply": "applying a referral code (API)",
    "payment_callback": "Robokassa's Result callback",
    "telegram_webhook": "the Telegram bot webhook",
    "vk_callback": "the VK Callback API endpoint",
}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one hit: allowed or not, and the seconds until a retry can succeed."""

    allowed: bool
    wait: float


def parse_rate(rate: str) -> tuple[int, int]:
    """``"20/min"`` → ``(20, 60)``; the DRF rate format (s, m, h, d by first letter)."""
    try:
        count, period = rate.split("/")
        return int(count), PERIODS[period.strip()[0].lower()]
    except (ValueError, KeyError, IndexError) as exc:
        raise ImproperlyConfigured(f"Bad throttle rate {rate!r}: expected like '20/min'.") from exc


def scope_rate(scope: str) -> tuple[int, int] | None:
    """``(requests, seconds)`` for ``scope``; None when the rate is set to nothing (no limit)."""
    rates = api_settings.DEFAULT_THROTTLE_RATES
    if scope not in rates:
        raise ImproperlyConfigured(f"No throttle rate for scope {scope!r} in DEFAULT_THROTTLE_RATES.")
    rate = rates[scope]
    # The DRF stubs type the rates as numbers; they are strings like "20/min".
    return parse_rate(rate) if rate else None  # type: ignore[arg-type]


def client_key(request) -> str:
    """Who is counted: the signed-in user, else the client address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


#: One request against several scopes, on Redis. Per scope: KEYS current and previous window,
#: ARGV limit, the previous window's overlap (a float) and the current window's time to live.
#: Returns per scope {allowed (1/0), count, previous} where count includes this request.
_HITS_SCRIPT = """
local verdicts = {}
for i = 1, #KEYS / 2 do
  local current, previous_key = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, overlap, ttl = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local count = redis.call('INCR', current)
  if count == 1 then redis.call('EXPIRE', current, ttl) end
  local previous = tonumber(redis.call('GET', previous_key) or '0')
  if previous * overlap + count <= limit then
    verdicts[i] = {1, count, previous}
  else
    redis.call('DECR', current)
    verdicts[i] = {0, count, previous}
  end
end
return verdicts
"""


@dataclass(frozen=True)
class _Window:
    scope: str
    limit: int
    period: int
    current_key: str
    previous_key: str
    elapsed: float

    @property
    def overlap(self) -> float:
        return (self.period - self.elapsed) / self.period

    @property
    def ttl(self) -> int:
        # A window's count is read as "previous" during the next one, so it lives two periods.
        return 2 * self.period + 5

    def verdict(self, *, allowed: bool, count: int, previous: int) -> Verdict:
        if allowed:
            return Verdict(True, 0.0)
        wait = _wait(limit=self.limit, period=self.period, previous=previous, count=count - 1, elapsed=self.elapsed)
        return Verdict(False, wait)


def _windows(request, scopes, now: float) -> list[_Window]:
    windows = []
    who = None
    for scope in dict.fromkeys(scopes):
        rate = scope_rate(scope)
        if rate is None:
            continue
        limit, period = rate
        who = who or client_key(request)
        window = int(now // period)
        base = f"throttle:{scope}:{who}"
        windows.append(_Window(scope, limit, period, f"{base}:{window}", f"{base}:{window - 1}", now - window * period))
    return windows


def _hits_redis(windows: list[_Window]) -> list[tuple[bool, int, int]]:
    keys, args = [], []
    for w in windows:
        keys += [w.current_key, w.previous_key]
        args += [w.limit, repr(w.overlap), w.ttl]
    rows = cast("RedisCache", cache).script_run(_HITS_SCRIPT, keys=keys, args=args, operation="throttle")
    return [(bool(allowed), int(count), int(previous)) for allowed, count, previous in rows]


def _hits_cache_api(windows: list[_Window]) -> list[tuple[bool, int, int]]:
    results = []
    for w in windows:
        try:
            count = cache.incr(w.current_key)
        except ValueError:  # first hit of the window
            count = 1 if cache.add(w.current_key, 1, timeout=w.ttl) else cache.incr(w.current_key)
        previous = cache.get(w.previous_key) or 0
        allowed = previous * w.overlap + count <= w.limit
        if not allowed:
            cache.decr(w.current_key)
        results.append((allowed, count, previous))
    return results


def throttle_hits(request, scopes, *, now: float | None = None) -> dict[str, Verdict]:
    """Count one request of ``request``'s client against each of ``scopes``; the verdict of each.

    A scope refuses when over its rate (and does not count the request); the
    others count it whatever that one says. Scopes without a rate always allow.
    On Redis this is one round trip whatever the number of scopes.
    """
    now = time.time() if now is None else now
    verdicts = {scope: Verdict(True, 0.0) for scope in scopes}
    windows = _windows(request, scopes, now)
    if not windows:
        return verdicts
    run = _hits_redis if hasattr(cache, "script_run") else _hits_cache_api
    for w, (allowed, count, previous) in zip(windows, run(windows), strict=True):
        verdicts[w.scope] = w.verdict(allowed=allowed, count=count, previous=previous)
    return verdicts


def throttle_hit(request, scope: str, *, now: float | None = None) -> Verdict:
    """Count one request of ``request``'s client against ``scope``; refuse it when over the rate."""
    return throttle_hits(request, [scope], now=now)[scope]


def _wait(*, limit: int, period: int, previous: int, count: int, elapsed: float) -> float:
    """Seconds until ``previous * overlap + count + 1 <= limit`` holds again."""
    if count + 1 <= limit and previous:
        # Still this window, once enough of the previous one has slid out.
        needed_overlap = (limit - count - 1) / previous
        return max(1.0, (1 - needed_overlap) * period - elapsed)
    # Next window: this window's count becomes "previous".
    until_next = period - elapsed
    needed_overlap = (limit - 1) / count if count else 1.0
    return max(1.0, until_next + max(0.0, 1 - needed_overlap) * period)


def retry_after_text(wait: float) -> str:
    """The refusal in words: try again in N minutes (seconds under a minute), for pages and form errors."""
    if wait < 60:
        seconds = max(1, math.ceil(wait))
        return ngettext(
            "Too many attempts. Try again in %(count)d second.",
            "Too many attempts. Try again in %(count)d seconds.",
            seconds,
        ) % {"count": seconds}
    minutes = math.ceil(wait / 60)
    return ngettext(
        "Too many attempts. Try again in %(count)d minute.",
        "Too many attempts. Try again in %(count)d minutes.",
        minutes,
    ) % {"count": minutes}


# --- the API (DRF) ----------------------------------------------------------------------


class ScopedThrottle(BaseThrottle):
    """DRF throttle for the view's ``throttle_scope``, on the shared counters.

    The first throttle of a view that DRF asks counts the request against the
    scopes of all the view's throttles at once (one round trip) and leaves the
    verdicts on the request for the others.
    """

    def get_scope(self, view) -> str | None:
        return getattr(view, "throttle_scope", None)

    def applies(self, request) -> bool:
        return True

    def scope_for(self, request, view) -> str | None:
        """The scope this request counts against here, or None."""
        scope = self.get_scope(view)
        return scope if scope and self.applies(request) else None

    def allow_request(self, request, view) -> bool:
        scope = self.scope_for(request, view)
        if not scope:
            return True
        verdicts = getattr(request, "_throttle_verdicts", None) or {}
        if scope not in verdicts:
            scopes: list[str | None] = [scope]
            scopes += [t.scope_for(request, view) for t in view.get_throttles() if isinstance(t, ScopedThrottle)]
            verdicts = {**verdicts, **throttle_hits(request, [s for s in scopes if s and s not in verdicts])}
            request._throttle_verdicts = verdicts
        verdict = verdicts[scope]
        self._wait = verdict.wait
        return verdict.allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class WriteThrottle(ScopedThrottle):
    """Like :class:`ScopedThrottle`, but reads (GET, HEAD, OPTIONS) are not counted."""

    def applies(self, request) -> bool:
        return request.method not in SAFE_METHODS


class AnonThrottle(ScopedThrottle):
    """The global limit on every API request of an anonymous client (scope ``anon``)."""

    def get_scope(self, view) -> str:
        return "anon"

    def applies(self, request) -> bool:
        return not (request.user and request.user.is_authenticated)


class UserThrottle(ScopedThrottle):
    """The global limit on every API request of a signed-in user (scope ``user``)."""

    def get_scope(self, view) -> str:
        return "user"

    def applies(self, request) -> bool:
        return bool(request.user and request.user.is_authenticated)


#: For API views with one throttled write: ``throttle_classes = WRITE_THROTTLES`` + ``throttle_scope``.
WRITE_THROTTLES = [WriteThrottle, AnonThrottle, UserThrottle]


# --- the HTML views -----------------------------------------------------------------------


def too_many_requests(request, verdict: Verdict, *, page: bool = True):
    """The 429 answer: a page saying when to try again, or plain text for machine callers."""
    if page:
        response = render(request, "429.html", {"message": retry_after_text(verdict.wait)}, status=429)
    else:
        from django.http import HttpResponse

        response = HttpResponse(_("Too many requests."), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(max(1, math.ceil(verdict.wait)))
    return response


def throttle(scope: str, *, methods: tuple[str, ...] = ("POST",), page: bool = True):
    """View decorator: requests with one of ``methods`` count against ``scope``; over the rate → 429.

    ``page=False`` answers plain text (callbacks and webhooks). Put it under
    ``login_required`` so signed-in users are counted by their id.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                verdict = throttle_hit(request, scope)
                if not verdict.allowed:
                    return too_many_requests(request, verdict, page=page)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def throttle_upload(request, form, field: str, *, scope: str = "upload") -> bool:
    """For a form whose ``field`` is an optional file: count the upload, if any, against ``scope``.

    When refused, the file is dropped unread (decoding images is what the limit
    protects), the rest of the form is validated, the refusal becomes the
    field's error, and True is returned so the view re-renders the form (429).
    """
    if field not in request.FILES:
        return False
    verdict = throttle_hit(request, scope)
    if verdict.allowed:
        return False
    files = form.files.copy()
    files.pop(field, None)
    form.files = files
    form.is_valid()
    form.add_error(field, retry_after_text(verdict.wait))
    return True
