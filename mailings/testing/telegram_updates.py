"""Telegram updates as the Bot API posts them to the webhook, for the tests of every app."""

import itertools
import json
from typing import Any

WEBHOOK_PATH = "/telegram/webhook/"

_update_ids = itertools.count(1)


def next_update_id() -> int:
    """A fresh update id (the Bot API numbers updates in order)."""
    return next(_update_ids)


def message_update(
    text: str, *, user: dict[str, Any], chat_type: str = "private", update_id: int | None = None
) -> dict[str, Any]:
    """A text message from ``user`` (a Telegram user object) in their private chat, or a ``chat_type`` one;
    update ids count up unless given."""
    return {
        "update_id": next_update_id() if update_id is None else update_id,
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "chat": {"id": user["id"], "type": chat_type},
            "from": user,
            "text": text,
        },
    }


def post_update(client: Any, update: dict[str, Any], *, secret: str | None) -> Any:
    """POST ``update`` to the webhook with the secret header (none when ``secret`` is None)."""
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    return client.post(WEBHOOK_PATH, data=json.dumps(update), content_type="application/json", **headers)
