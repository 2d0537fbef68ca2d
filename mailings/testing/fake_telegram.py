"""A local fake Telegram Bot API: a threaded HTTP server the real python-telegram-bot talks to.

It records every call, enforces the limits Telegram enforces (``global_rate``
messages per second overall, 1 per second per chat; above them it answers 429
with ``parameters.retry_after``) and simulates failures: chats that blocked the
bot (403), bad requests (400) and dropped connections.

    with FakeTelegram() as fake:
        settings.TELEGRAM_API_BASE_URL = fake.base_url
        ...
        fake.messages_to(chat_id)
"""

import collections
import itertools
import json
import threading
import time

from mailings.testing.local_server import LocalServer

SEND_METHODS = {"sendMessage", "sendPhoto", "sendAnimation", "sendVideo"}


class FakeTelegram(LocalServer):
    def __init__(self, *, global_rate: int = 30, per_chat_rate: int = 1, retry_after: int = 1, latency: float = 0.0):
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self.retry_after = retry_after
        self.latency = latency
        self.lock = threading.Lock()
        self.calls: list[tuple[str, dict]] = []
        self.too_many = 0
        self.accepted = 0
        self.accepted_times: list[float] = []  # time.monotonic() of each accepted message
        self.blocked_chats: set[str] = set()
        self.bad_chats: set[str] = set()
        self.drop_connections: collections.Counter = collections.Counter()  # chat_id → times to drop
        self.force_429: collections.Counter = collections.Counter()  # chat_id → times to answer 429
        self.hold_after: int | None = None  # block the response of message number N until released
        self.held = threading.Event()
        self.release = threading.Event()
        self._recent: collections.deque = collections.deque()
        self._per_chat: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._ids = itertools.count(1)
        self.updates: list[dict] = []
        self.webhook: dict | None = None
        self.menu_button: dict | None = None  # the last setChatMenuButton
        super().__init__()

    # -- lifecycle -----------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.root + "/bot"

    def stop(self):
        self.release.set()
        super().stop()

    # -- inspection ----------------------------------------------------------
    def sent(self) -> list[tuple[str, dict]]:
        """Every accepted send* call (method, params)."""
        with self.lock:
            return [(m, p) for m, p in self.calls if m in SEND_METHODS and p.get("_accepted")]

    def messages_to(self, chat_id) -> list[tuple[str, dict]]:
        return [(m, p) for m, p in self.sent() if str(p.get("chat_id")) == str(chat_id)]

    def count_by_chat(self) -> collections.Counter:
        return collections.Counter(str(p.get("chat_id")) for _m, p in self.sent())

    # -- request handling ----------------------------------------------------
    def _params(self, handler) -> dict:
        body, content_type = self.read_body(handler)
        params: dict = {}
        if content_type.startswith("multipart/form-data"):
            for part in self.multipart_parts(body, content_type):
                name = part.get_param("name", header="content-disposition")
                if part.get_filename():
                    params[name] = {"filename": part.get_filename(), "size": len(part.get_payload(decode=True))}
                else:
                    params[name] = part.get_payload(decode=True).decode("utf-8")
        elif content_type.startswith("application/json"):
            params = json.loads(body or b"{}")
        else:
            params = self.form_params(body)
        for key in ("reply_markup", "parameters", "menu_button", "allowed_updates"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass
        return params

    def _reply(self, handler, status: int, payload: dict) -> None:
        self.reply_json(handler, status, payload)

    def _error(self, handler, status: int, description: str, **parameters) -> None:
        payload = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = parameters
        self._reply(handler, status, payload)

    def _handle(self, handler) -> None:
        method = handler.path.rsplit("/", 1)[-1].split("?")[0]
        params = self._params(handler)
        chat = str(params.get("chat_id", ""))
        if self.latency:
            time.sleep(self.latency)
        hold = False
        with self.lock:
            self.calls.append((method, params))
            if method in SEND_METHODS:
                if self.drop_connections[chat] > 0:
                    self.drop_connections[chat] -= 1
                    handler.close_connection = True
                    handler.connection.close()
                    return
                if chat in self.blocked_chats:
                    return self._error(handler, 403, "Forbidden: bot was blocked by the user")
                if chat in self.bad_chats:
                    return self._error(handler, 400, "Bad Request: chat not found")
                now = time.monotonic()
                while self._recent and now - self._recent[0] >= 1.0:
                    self._recent.popleft()
                per_chat = self._per_chat[chat]
                while per_chat and now - per_chat[0] >= 1.0:
                    per_chat.popleft()
                if (
                    self.force_429[chat] > 0
                    or len(self._recent) >= self.global_rate
                    or len(per_chat) >= self.per_chat_rate
                ):
                    if self.force_429[chat] > 0:
                        self.force_429[chat] -= 1
                    self.too_many += 1
                    return self._error(
                        handler, 429, f"Too Many Requests: retry after {self.retry_after}", retry_after=self.retry_after
                    )
                self._recent.append(now)
                per_chat.append(now)
                params["_accepted"] = True
                self.accepted += 1
                self.accepted_times.append(now)
                hold = self.hold_after is not None and self.accepted == self.hold_after
        if hold:
            self.held.set()
            self.release.wait(30)
        self._reply(handler, 200, {"ok": True, "result": self._result(method, params, chat)})

    def _result(self, method: str, params: dict, chat: str):
        if method == "getMe":
            return {"id": 1, "is_bot": True, "first_name": "Citydesk", "username": "citydesk_bot"}
        if method in ("setWebhook", "deleteWebhook", "answerCallbackQuery", "setChatMenuButton"):
            if method == "setWebhook":
                self.webhook = params
            elif method == "setChatMenuButton":
                self.menu_button = params
            return True
        if method == "getUpdates":
            with self.lock:
                updates, self.updates = self.updates, []
            return updates
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": int(chat) if chat.lstrip("-").isdigit() else 0, "type": "private"},
        }
        if method == "sendMessage":
            message["text"] = params.get("text", "")
        else:
            kind = method[len("send") :].lower()
            file_id = f"{kind}-file-{message['message_id']}"
            item = {"file_id": file_id, "file_unique_id": file_id, "width": 10, "height": 10}
            if kind == "photo":
                message["photo"] = [item]
            else:
                message[kind] = {**item, "duration": 1}
            if params.get("caption"):
                message["caption"] = params["caption"]
        return message
