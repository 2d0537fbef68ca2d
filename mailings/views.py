"""Bot endpoints: the Telegram webhook and the VK Callback API.

Both are open to the internet, so neither trusts a body before it has to:
Telegram's secret is a header, checked before the body is read; VK carries its
secret inside the JSON event, so that body is read only up to a fixed size and
parsed by the depth-limited parser (portal/json_limits.py) before the secret is
compared and the event looked at. Bad, huge or deeply nested JSON is a 400.
"""

import hmac
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mailings.services import subscriber_deactivate, subscriber_subscribe
from mailings.subscriber_identity import subscriber_link_platform_identity
from portal.json_limits import json_loads_limited
from portal.throttling import throttle

logger = logging.getLogger(__name__)

# Bot updates and VK events are a few kilobytes; a media group or a long message stays far below this.
MAX_BODY_BYTES = 1024 * 1024


def _secret_matches(given: str | None, expected: str) -> bool:
    # An unset secret refuses everything rather than accepting everything.
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _json_body(request):
    """The request's JSON within MAX_BODY_BYTES and JSON_MAX_DEPTH; ValueError (→ 400) otherwise."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise ValueError("body too large")  # refused before reading it
    return json_loads_limited(request.read(MAX_BODY_BYTES + 1), max_bytes=MAX_BODY_BYTES)


@csrf_exempt
@require_POST
@throttle("telegram_webhook", page=False)
def telegram_webhook(request):
    """Check the secret header, validate the update and hand it to Celery."""
    if not _secret_matches(request.headers.get("X-Telegram-Bot-Api-Secret-Token"), settings.TELEGRAM_WEBHOOK_SECRET):
        return HttpResponseForbidden("forbidden")
    from mailings.telegram_bot import parse_update

    try:
        data = _json_body(request)
        parse_update(data)
    except (ValueError, UnicodeDecodeError):
        return HttpResponseBadRequest("malformed update")
    from mailings.tasks import process_telegram_update

    try:
        process_telegram_update.delay(data)
    except Exception:  # broker down: Telegram retries a non-2xx answer later
        logger.exception("could not queue a Telegram update")
        return JsonResponse({"ok": False}, status=503)
    return JsonResponse({"ok": True})


GREETING_WORDS = {"начать", "start", "/start", "старт", "привет"}


@csrf_exempt
@require_POST
@throttle("vk_callback", page=False)
def vk_callback(request):
    """VK Callback API: confirmation, then secret-checked events answered with "ok".

    The secret travels inside the event, so the (size-capped, depth-limited)
    body is parsed first; the secret is compared before any event is handled.
    With neither a secret nor a confirmation code configured, nothing is read.
    """
    if not settings.VK_CALLBACK_SECRET and not settings.VK_CONFIRMATION_CODE:
        return HttpResponseForbidden("forbidden")
    try:
        event = _json_body(request)
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise ValueError("not an event")
    except (ValueError, UnicodeDecodeError):
        return HttpResponseBadRequest("malformed event")
    secret = event.get("secret")
    if not _secret_matches(secret if isinstance(secret, str) else None, settings.VK_CALLBACK_SECRET):
        # Only the confirmation handshake may come without the secret; it answers a public code.
        if event["type"] == "confirmation":
            return _vk_confirmation(event)
        return HttpResponseForbidden("forbidden")
    if event["type"] == "confirmation":
        return _vk_confirmation(event)
    obj = event.get("object")
    if not isinstance(obj, dict):
        obj = {}
    try:
        if event["type"] == "message_new":
            inner = obj.get("message")
            message = inner if isinstance(inner, dict) else obj
            peer_id = int(message["from_id"])
            subscriber_subscribe(channel="vk", chat_id=peer_id)
            # A VK user who signed in (Mini App, VK login) before writing: their chat is theirs.
            subscriber_link_platform_identity(channel="vk", chat_id=peer_id)
            if str(message.get("text", "")).strip().lower() in GREETING_WORDS:
                _vk_greet(peer_id, message)
        elif event["type"] == "message_allow":
            # Also what the Mini App's VKWebAppAllowMessagesFromGroup leads to after a booking.
            user_id = int(obj["user_id"])
            subscriber_subscribe(channel="vk", chat_id=user_id)
            subscriber_link_platform_identity(channel="vk", chat_id=user_id)
        elif event["type"] == "message_deny":
            subscriber_deactivate(channel="vk", chat_id=int(obj["user_id"]))
    except (KeyError, TypeError, ValueError):
        return HttpResponseBadRequest("malformed event")
    return HttpResponse("ok", content_type="text/plain")


def _vk_confirmation(event: dict) -> HttpResponse:
    if not settings.VK_CONFIRMATION_CODE or str(event.get("group_id")) != str(settings.VK_GROUP_ID):
        return HttpResponseForbidden("forbidden")
    return HttpResponse(settings.VK_CONFIRMATION_CODE, content_type="text/plain")


def _vk_greet(peer_id: int, message: dict) -> None:
    from django.db import transaction

    from mailings.channels import vk
    from mailings.tasks import vk_send_message

    if not vk.is_configured():
        return
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Hello! You are subscribed to Citydesk news. To unsubscribe, forbid messages from the community.")
    random_id = vk.random_id_for("greet", peer_id, message.get("id", ""), message.get("date", ""))
    transaction.on_commit(lambda: vk_send_message.delay(peer_id, text, random_id))
