"""Launch data signed the way Telegram and VK sign it (an independent test-side implementation)."""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

BOT_TOKEN = "123456:TEST-bot-token-for-citydesk"
VK_SECRET = "vk-test-app-secret"


def telegram_init_data(
    *, user: dict | str | None = None, auth_date: int | None = None, bot_token: str = BOT_TOKEN, **extra
) -> str:
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user or {"id": 279058397, "first_name": "Влад", "last_name": "Кибенко"}, ensure_ascii=False),
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
        **extra,
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def vk_launch_params(*, user_id: int = 494075, ts: int | None = None, secret: str = VK_SECRET, **extra) -> str:
    params = {
        "vk_user_id": str(user_id),
        "vk_app_id": "6736218",
        "vk_is_app_user": "1",
        "vk_are_notifications_enabled": "1",
        "vk_language": "ru",
        "vk_access_token_settings": "",
        "vk_platform": "mobile_android",
        "vk_ts": str(int(time.time()) if ts is None else ts),
        **extra,
    }
    message = urlencode(sorted((k, v) for k, v in params.items() if k.startswith("vk_")))
    sign = base64.urlsafe_b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest())
    params["sign"] = sign.decode().rstrip("=")
    return urlencode(params)
