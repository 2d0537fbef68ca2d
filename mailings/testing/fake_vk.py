"""A local fake VK API for vk-api: messages.send (peer_ids, random_id dedup, per-peer
errors), error 6 on demand, and the message photo upload endpoints.

    with FakeVK() as fake:
        settings.VK_API_BASE_URL = fake.base_url
"""

import collections
import itertools
import json
import socket
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeVK:
    def __init__(self, *, group_id: int = 1):
        self.group_id = group_id
        self.lock = threading.Lock()
        self.calls: list[tuple[str, dict]] = []
        self.deliveries: list[tuple[int, int]] = []  # (peer_id, random_id) actually delivered
        self.dedup: dict[tuple[int, int], int] = {}
        self.blocked_peers: dict[int, int] = {}  # peer → error code (901/902)
        self.fail_next: collections.deque = collections.deque()  # error codes for the next calls
        self.uploads = 0
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Headers and body go out in separate writes: without this, Nagle's
                # algorithm and the client's delayed ACK add ~40 ms to every answer.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):
                pass

            def do_POST(self):
                fake._handle(self)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root + "/method/"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def send_calls(self) -> list[dict]:
        with self.lock:
            return [p for m, p in self.calls if m == "messages.send"]

    def count_by_peer(self) -> collections.Counter:
        with self.lock:
            return collections.Counter(peer for peer, _ in self.deliveries)

    def _reply(self, handler, payload) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _handle(self, handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        content_type = handler.headers.get("Content-Type", "")
        if handler.path.startswith("/upload/"):
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
            )
            files = [p.get_filename() for p in message.iter_parts() if p.get_filename()]
            with self.lock:
                self.uploads += 1
            return self._reply(handler, {"server": 1, "photo": json.dumps(files), "hash": "h"})
        method = handler.path.split("/method/", 1)[-1].split("?")[0]
        params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
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
