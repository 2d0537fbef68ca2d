"""A local fake VK API for vk-api: messages.send (peer_ids, random_id dedup, per-peer
errors), error 6 on demand, and the message photo and document (GIF) upload endpoints.

    with FakeVK() as fake:
        settings.VK_API_BASE_URL = fake.base_url
"""

import collections
import itertools
import json
import threading

from mailings.testing.local_server import LocalServer


class FakeVK(LocalServer):
    def __init__(self, *, group_id: int = 1):
        self.group_id = group_id
        self.lock = threading.Lock()
        self.calls: list[tuple[str, dict]] = []
        self.deliveries: list[tuple[int, int]] = []  # (peer_id, random_id) actually delivered
        self.dedup: dict[tuple[int, int], int] = {}
        self.blocked_peers: dict[int, int] = {}  # peer → error code (901/902)
        self.fail_next: collections.deque = collections.deque()  # error codes for the next calls
        self.uploads = 0
        self.uploaded_files: list[str] = []
        self._ids = itertools.count(1)
        super().__init__()

    @property
    def base_url(self) -> str:
        return self.root + "/method/"

    def send_calls(self) -> list[dict]:
        with self.lock:
            return [p for m, p in self.calls if m == "messages.send"]

    def count_by_peer(self) -> collections.Counter:
        with self.lock:
            return collections.Counter(peer for peer, _ in self.deliveries)

    def _reply(self, handler, payload) -> None:
        self.reply_json(handler, 200, payload)

    def _handle(self, handler) -> None:
        body, content_type = self.read_body(handler)
        if handler.path.startswith("/upload/"):
            files = [p.get_filename() for p in self.multipart_parts(body, content_type) if p.get_filename()]
            with self.lock:
                self.uploads += 1
                self.uploaded_files.extend(files)
            if handler.path.startswith("/upload/doc"):
                return self._reply(handler, {"file": "doc-" + json.dumps(files)})
            return self._reply(handler, {"server": 1, "photo": json.dumps(files), "hash": "h"})
        method = handler.path.split("/method/", 1)[-1].split("?")[0]
        params = self.form_params(body)
        with self.lock:
            self.calls.append((method, params))
            if self.fail_next:
                code = self.fail_next.popleft()
                return self._reply(
                    handler,
                    {"error": {"error_code": code, "error_msg": "Too many requests per second", "request_params": []}},
                )
        if method == "photos.getMessagesUploadServer":
            return self._reply(handler, {"response": {"upload_url": self.root + "/upload/photo", "album_id": 1}})
        if method == "photos.saveMessagesPhoto":
            return self._reply(
                handler, {"response": [{"id": next(self._ids), "owner_id": -self.group_id, "access_key": "k"}]}
            )
        if method == "docs.getMessagesUploadServer":
            return self._reply(handler, {"response": {"upload_url": self.root + "/upload/doc"}})
        if method == "docs.save":
            doc = {"id": next(self._ids), "owner_id": -self.group_id, "title": params.get("title", "")}
            return self._reply(handler, {"response": {"type": "doc", "doc": doc}})
        if method == "messages.send":
            return self._reply(handler, {"response": self._send(params)})
        return self._reply(handler, {"error": {"error_code": 3, "error_msg": "Unknown method", "request_params": []}})

    def _send(self, params: dict):
        random_id = int(params.get("random_id", 0))
        peers = [int(p) for p in (params.get("peer_ids") or params.get("peer_id", "")).split(",") if p]
        results = []
        with self.lock:
            for peer in peers:
                if peer in self.blocked_peers:
                    code = self.blocked_peers[peer]
                    results.append({"peer_id": peer, "error": {"code": code, "description": "Can't send messages"}})
                    continue
                key = (peer, random_id)
                if random_id and key in self.dedup:
                    message_id = self.dedup[key]  # VK drops the duplicate, answers the same id
                else:
                    message_id = next(self._ids)
                    self.dedup[key] = message_id
                    self.deliveries.append(key)
                results.append({"peer_id": peer, "message_id": message_id, "conversation_message_id": message_id})
        if "peer_ids" in params:
            return results
        return results[0]["message_id"] if results and "message_id" in results[0] else results
