"""DRF authentication for Telegram and VK Mini Apps.

``Authorization: tma <initData>``
    Telegram's raw ``initData`` query string. The data-check-string is every
    field except ``hash`` (``signature`` included), sorted by key, ``key=value``
    with URL-decoded values, joined by ``\\n``; the secret key is
    ``HMAC_SHA256(key="WebAppData", msg=bot_token)``; ``hash`` must equal the hex
    ``HMAC_SHA256(key=secret, msg=data_check_string)``.

``Authorization: vk <launch params>``
    VK's launch query string. The ``vk_*`` parameters (not ``sign``), sorted by
    key, URL-encoded ``key=value`` joined by ``&``, signed with
    ``HMAC_SHA256(key=VK_APP_SECRET)`` and written as url-safe base64 without
    padding, must equal ``sign``.

Both timestamps (``auth_date``, ``vk_ts``) must be at most
``MINIAPP_AUTH_MAX_AGE`` seconds old and not in the future. Any failure is an
``AuthenticationFailed`` (401) with a clear ``detail`` and a specific ``code``,
whatever the header holds: a malformed query string, a missing hash, bad or
deeply nested JSON in ``user``, a non-numeric timestamp, a NUL character — it is
never a 400 or a 500. A blocked user gets 403 ``user_blocked``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from portal.api_permissions import UserBlockedError
from portal.json_limits import JSONLimitError, json_loads_limited
from portal.services import telegram_user_get_or_create, vk_user_get_or_create

logger = logging.getLogger(__name__)

# Launch data longer than this is not something Telegram or VK produce.
MAX_HEADER_LENGTH = 8192
# Clocks drift a little between the platform and us; allow this much "future".
CLOCK_SKEW_SECONDS = 30
# Telegram and VK user ids are 64-bit integers at most.
MAX_PLATFORM_ID = 2**63 - 1
# Telegram's user object is flat but for a photo/emoji-status field or two.
MAX_USER_JSON_DEPTH = 4


@dataclass(frozen=True)
class MiniAppIdentity:
    """Who the launch data says the visitor is: DRF's ``request.auth`` after a Mini App authentication."""

    provider: str  # "telegram" or "vk"
    uid: str  # the platform user id
    created: bool  # this request created the user
    start_param: str = ""  # Telegram's signed start_param ("" for VK: its start parameter is the unsigned hash)


class MiniAppAuthError(Exception):
    """Launch data failed a check; ``code`` says which (used as the API error code)."""

    def __init__(self, message, code: str):
        super().__init__(str(message))
        self.message = message
        self.code = code


class MiniAppAuthFailed(exceptions.AuthenticationFailed):
    pass


def _parse_query(raw: str) -> dict[str, str]:
    """Parse a launch query string strictly: ASCII, well-formed, no duplicate keys."""
    if not raw or len(raw) > MAX_HEADER_LENGTH:
        raise MiniAppAuthError(_("The launch data is missing or too long."), "miniapp_malformed")
    if not raw.isascii() or not raw.isprintable():
        raise MiniAppAuthError(_("The launch data contains invalid characters."), "miniapp_malformed")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise MiniAppAuthError(_("The launch data is not a valid query string."), "miniapp_malformed")
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise MiniAppAuthError(_("The launch data repeats a parameter."), "miniapp_malformed")
        if "\x00" in key or "\x00" in value:  # %00: no platform sends it, and the database refuses it
            raise MiniAppAuthError(_("The launch data contains invalid characters."), "miniapp_malformed")
        params[key] = value
    return params


def _check_timestamp(value: str | None, *, max_age: int | None, now: float | None, field: str) -> int:
    if value is None or not value.isdigit() or len(value) > 12:
        raise MiniAppAuthError(_("The launch data has no valid %(field)s.") % {"field": field}, "miniapp_malformed")
    stamp = int(value)
    if max_age is None:
        return stamp
    now = time.time() if now is None else now
    if stamp > now + CLOCK_SKEW_SECONDS:
        raise MiniAppAuthError(_("The launch data is dated in the future."), "miniapp_future")
    if now - stamp > max_age:
        raise MiniAppAuthError(_("The launch data has expired; reopen the Mini App."), "miniapp_expired")
    return stamp


def telegram_init_data_verify(
    init_data: str, *, bot_token: str, max_age: int | None, now: float | None = None
) -> dict[str, str]:
    """Verify Telegram Mini App ``initData``; return its fields (``user`` still JSON text).

    ``max_age=None`` skips the age check (for checking a published example).
    Raises ``MiniAppAuthError``.
    """
    if not bot_token:
        raise MiniAppAuthError(_("Telegram sign-in is not configured."), "miniapp_not_configured")
    params = _parse_query(init_data)
    received_hash = params.pop("hash", "")
    if not received_hash:
        raise MiniAppAuthError(_("The launch data is not signed."), "miniapp_malformed")
    data_check_string = "\n".join(f"{key}={params[key]}" for key in sorted(params))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, data_check_string.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received_hash.lower()):
        raise MiniAppAuthError(_("The launch data signature is invalid."), "miniapp_bad_signature")
    _check_timestamp(params.get("auth_date"), max_age=max_age, now=now, field="auth_date")
    return params


def telegram_user_from_init_data(params: dict[str, str]) -> dict:
    """The ``user`` object of verified initData; it must carry a positive integer ``id``.

    The JSON is parsed within the depth limit (deep nesting is refused, never a
    RecursionError) and may not hold a NUL character (``\\u0000``), which the
    database cannot store.
    """
    raw = params.get("user", "")
    try:
        user = json_loads_limited(raw, max_bytes=MAX_HEADER_LENGTH, max_depth=MAX_USER_JSON_DEPTH)
    except JSONLimitError:
        user = None
    if not isinstance(user, dict) or "\\u0000" in raw:
        raise MiniAppAuthError(_("The launch data has no user."), "miniapp_malformed")
    user_id = user.get("id")
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 < user_id <= MAX_PLATFORM_ID:
        raise MiniAppAuthError(_("The launch data has no valid user id."), "miniapp_malformed")
    return user


def vk_sign(params: dict[str, str], *, secret: str) -> str:
    """VK's launch-params signature of the ``vk_*`` parameters."""
    message = urlencode(sorted((key, value) for key, value in params.items() if key.startswith("vk_")))
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def vk_launch_params_verify(
    query: str, *, secret: str, max_age: int | None, now: float | None = None
) -> dict[str, str]:
    """Verify VK Mini App launch params; return them (without ``sign``).

    ``max_age=None`` skips the ``vk_ts`` check. Raises ``MiniAppAuthError``.
    """
    if not secret:
        raise MiniAppAuthError(_("VK sign-in is not configured."), "miniapp_not_configured")
    params = _parse_query(query)
    received = params.pop("sign", "")
    if not received:
        raise MiniAppAuthError(_("The launch data is not signed."), "miniapp_malformed")
    if not hmac.compare_digest(vk_sign(params, secret=secret), received):
        raise MiniAppAuthError(_("The launch data signature is invalid."), "miniapp_bad_signature")
    if max_age is not None:
        _check_timestamp(params.get("vk_ts"), max_age=max_age, now=now, field="vk_ts")
    user_id = params.get("vk_user_id", "")
    if not user_id.isascii() or not user_id.isdigit() or not 0 < int(user_id) <= MAX_PLATFORM_ID:
        raise MiniAppAuthError(_("The launch data has no valid user id."), "miniapp_malformed")
    return params


def _header_credentials(request, keyword: str) -> str | None:
    """The credentials after ``<keyword> `` in Authorization, or None when the scheme is another."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not isinstance(header, str) or not header:
        return None
    scheme, _sep, rest = header.partition(" ")
    if scheme.lower() != keyword:
        return None
    return rest.strip()


def _ensure_may_sign_in(user):
    if user.is_blocked:
        raise UserBlockedError()
    if not user.is_active:
        raise MiniAppAuthFailed(detail=str(_("This account is deactivated.")), code="user_inactive")


class _MiniAppAuthentication(BaseAuthentication):
    keyword = ""

    def authenticate(self, request):
        credentials = _header_credentials(request, self.keyword)
        if credentials is None:
            return None
        try:
            user, identity = self.authenticate_launch_data(credentials)
        except MiniAppAuthError as exc:
            raise MiniAppAuthFailed(detail=str(exc.message), code=exc.code)
        _ensure_may_sign_in(user)
        return user, identity

    def authenticate_launch_data(self, credentials: str) -> tuple:  # pragma: no cover - abstract
        """``(user, MiniAppIdentity)`` of valid launch data; raises MiniAppAuthError."""
        raise NotImplementedError

    def authenticate_header(self, request):
        return self.keyword


class TelegramMiniAppAuthentication(_MiniAppAuthentication):
    """``Authorization: tma <initData>``: finds or creates the user of a Telegram identity."""

    keyword = "tma"

    def authenticate_launch_data(self, credentials: str):
        params = telegram_init_data_verify(
            credentials, bot_token=settings.TELEGRAM_BOT_TOKEN, max_age=settings.MINIAPP_AUTH_MAX_AGE
        )
        telegram_user = telegram_user_from_init_data(params)
        start_param = params.get("start_param", "")
        user, created = telegram_user_get_or_create(telegram_user=telegram_user, start_param=start_param)
        identity = MiniAppIdentity(
            provider="telegram", uid=str(telegram_user["id"]), created=created, start_param=start_param
        )
        return user, identity


class VKMiniAppAuthentication(_MiniAppAuthentication):
    """``Authorization: vk <launch params>``: finds or creates the user of a VK identity."""

    keyword = "vk"

    def authenticate_launch_data(self, credentials: str):
        params = vk_launch_params_verify(
            credentials, secret=settings.VK_APP_SECRET, max_age=settings.MINIAPP_AUTH_MAX_AGE
        )
        user, created = vk_user_get_or_create(vk_user_id=params["vk_user_id"], launch_params=params)
        return user, MiniAppIdentity(provider="vk", uid=str(int(params["vk_user_id"])), created=created)


# --- The Mini App schemes in the OpenAPI schema


class TelegramMiniAppScheme(OpenApiAuthenticationExtension):
    target_class = "portal.miniapp_auth.TelegramMiniAppAuthentication"
    name = "tma"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`tma <initData>`: the Telegram Mini App's raw initData",
        }


class VKMiniAppScheme(OpenApiAuthenticationExtension):
    target_class = "portal.miniapp_auth.VKMiniAppAuthentication"
    name = "vk"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`vk <launch params>`: the VK Mini App's launch query string",
        }
