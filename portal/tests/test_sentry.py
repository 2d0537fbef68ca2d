"""SENTRY_DSN: errors go to Sentry tagged with the request id (checked against a local collector)."""

import gzip
import json
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from portal.tests.production import PRODUCTION_ENV, ROOT, clean_environ

SCRIPT = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
import django
django.setup()
import sentry_sdk
from portal.request_ids import request_id_bound

with request_id_bound("req-sentry-7"):
    try:
        {}["missing"]
    except KeyError:
        sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=10)
"""


class Collector(BaseHTTPRequestHandler):
    envelopes: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # pragma: no cover - only if the SDK picked brotli

            body = brotli.decompress(body)
        type(self).envelopes.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_an_error_reaches_sentry_with_the_request_id_tag():
    Collector.envelopes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = clean_environ(
            **PRODUCTION_ENV,
            SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/1",
            SENTRY_ENVIRONMENT="test",
        )
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        server.shutdown()

    assert result.returncode == 0, result.stderr
    events = [
        json.loads(line)
        for envelope in Collector.envelopes
        for line in envelope.splitlines()
        if line.startswith(b"{") and b'"exception"' in line
    ]
    assert len(events) == 1, Collector.envelopes
    [event] = events
    assert event["tags"]["request_id"] == "req-sentry-7"
    assert event["environment"] == "test"
    assert event["exception"]["values"][0]["type"] == "KeyError"
