"""An open-loop HTTP/1.1 load generator on asyncio.

Requests leave on a schedule — Poisson arrivals (exponential gaps) or a
constant rate — whether or not earlier answers have come back, as requests
from many independent people do. Each latency is measured from the request's
**scheduled** send time to the end of its answer, so a server (or a client)
that falls behind is charged for the wait it causes and slow answers cannot
hide by holding later requests back (no coordinated omission).

Each request opens its own connection from one of many loopback source
addresses (127.0.x.y, ``SOURCES`` of them) and sends ``Connection: close``:
every address looks like another visitor to the per-address throttles, and
there is no connection pool whose size would quietly close the loop. It is
lean on purpose — a ``Protocol`` per exchange, no HTTP library, the answer
parsed only for its status and length — so it leaves the CPU to the server,
and it reports its own lateness (``lag``: how late requests actually left)
so an overloaded client shows up as such.

``Outcome.status``: the HTTP status, or ``TIMEOUT`` (no complete answer
within ``timeout`` of the scheduled time), ``CONNECT_ERROR`` (refused, reset,
a truncated answer) or ``DROPPED`` (more than ``max_inflight`` requests
already waiting: the request is not sent and counts as an error).
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import resource
from collections.abc import Callable
from dataclasses import dataclass, field

TIMEOUT = -1
CONNECT_ERROR = -2
DROPPED = -3
MIN_SAMPLES = 200  # no percentile is printed from fewer samples
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


def loopback_sources(count: int) -> list[str]:
    """``count`` loopback addresses 127.0.x.y (x from 1, y 1–250); Linux routes all of 127/8 to lo."""
    return [f"127.0.{1 + n // 250}.{1 + n % 250}" for n in range(count)]


def http_request(method: str, path: str, *, host: str, headers: dict | None = None, body: bytes = b"") -> bytes:
    """The bytes of one HTTP/1.1 request that asks the server to close the connection after answering."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: application/json", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Prepared:
    kind: str
    payload: bytes


@dataclass(slots=True)
class Outcome:
    kind: str
    scheduled: float  # loop time the request was due to leave
    latency: float  # seconds from ``scheduled`` to the end of the answer (or to the failure)
    lag: float  # seconds the request actually left after ``scheduled``
    status: int
    code: str = ""  # the error code of a 4xx/5xx JSON answer, when the body names one


class _Exchange(asyncio.Protocol):
    """Write the request, collect the answer, resolve ``done`` with it (or an error)."""

    __slots__ = ("buffer", "done", "header_end", "length", "payload", "transport")

    def __init__(self, payload: bytes, done: asyncio.Future):
        self.payload = payload
        self.done = done
        self.buffer = bytearray()
        self.header_end = -1
        self.length: int | None = None
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.payload)

    def data_received(self, data: bytes):
        self.buffer += data
        if self.header_end < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.header_end = end + 4
            match = CONTENT_LENGTH.search(self.buffer, 0, end + 2)
            self.length = int(match.group(1)) if match else None
        if self.length is not None and len(self.buffer) - self.header_end >= self.length:
            self._finish()
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc):
        self._finish(exc)

    def _finish(self, exc: Exception | None = None) -> None:
        if self.done.done():
            return
        complete = self.header_end >= 0 and (self.length is None or len(self.buffer) - self.header_end >= self.length)
        if complete:
            self.done.set_result(bytes(self.buffer))
        else:
            self.done.set_exception(ConnectionError(f"answer cut short ({exc!r})"))


def _error_code(answer: bytes) -> str:
    match = re.search(rb'"code"\s*:\s*"([a-z_]{1,40})"', answer)
    return match.group(1).decode() if match else ""


@dataclass
class OpenLoop:
    host: str
    port: int
    sources: list[str]
    timeout: float = 5.0
    max_inflight: int = 4000
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:  # one descriptor per request in flight
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.max_inflight = min(self.max_inflight, max(64, hard - 256))
        self._source = 0

    async def _one(self, prepared: Prepared, scheduled: float) -> None:
        loop = asyncio.get_running_loop()
        source = self.sources[self._source % len(self.sources)]
        self._source += 1
        lag = loop.time() - scheduled
        done = loop.create_future()
        transport = None
        code = ""
        try:
            async with asyncio.timeout_at(scheduled + self.timeout):
                transport, _protocol = await loop.create_connection(
                    lambda: _Exchange(prepared.payload, done), self.host, self.port, local_addr=(source, 0)
                )
                answer = await done
            status = int(answer[9:12])
            if status >= 400:
                code = _error_code(answer[-2048:])
        except TimeoutError:
            status = TIMEOUT
        except (OSError, ConnectionError, ValueError):
            status = CONNECT_ERROR
        finally:
            if transport is not None:
                transport.close()
        self.outcomes.append(Outcome(prepared.kind, scheduled, loop.time() - scheduled, lag, status, code))

    async def run(
        self, *, rate: float, seconds: float, next_request: Callable[[], Prepared], seed: int = 1, poisson: bool = True
    ) -> list[Outcome]:
        """Send requests at ``rate`` per second for ``seconds``; wait for the last answers; return the outcomes."""
        loop = asyncio.get_running_loop()
        rng = random.Random(seed)
        self.outcomes = []
        pending: set[asyncio.Task] = set()
        start = loop.time() + 0.01
        due, end = start, start + seconds
        while True:
            due += rng.expovariate(rate) if poisson else 1.0 / rate
            if due >= end:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            prepared = next_request()
            if len(pending) >= self.max_inflight:
                self.outcomes.append(Outcome(prepared.kind, due, 0.0, loop.time() - due, DROPPED))
                continue
            task = loop.create_task(self._one(prepared, due))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.wait(pending)
        return self.outcomes


# --- summaries -----------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values, or None below MIN_SAMPLES samples."""
    if len(sorted_values) < MIN_SAMPLES:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


@dataclass
class Summary:
    """One load run: what was asked, what came back, and how fast."""

    target: float
    seconds: float
    outcomes: list[Outcome]

    def __post_init__(self):
        answered = [o for o in self.outcomes if o.status > 0]
        self.sent = len(self.outcomes)
        self.answered = len(answered)
        first = min((o.scheduled for o in self.outcomes), default=0.0)
        last = max((o.scheduled + o.latency for o in answered), default=first)
        # Answers per second from the first scheduled send to the last answer: falls below the
        # target when the server cannot keep up (the tail of the queue is drained after the schedule ends).
        self.achieved = self.answered / max(last - first, self.seconds, 1e-9)
        self.latencies = sorted(o.latency * 1000 for o in answered)
        self.conflicts = sum(1 for o in self.outcomes if o.status == 409)
        self.throttled = sum(1 for o in self.outcomes if o.status == 429)
        self.server_errors = sum(1 for o in self.outcomes if o.status >= 500)
        self.timeouts = sum(1 for o in self.outcomes if o.status == TIMEOUT)
        self.connect_errors = sum(1 for o in self.outcomes if o.status == CONNECT_ERROR)
        self.dropped = sum(1 for o in self.outcomes if o.status == DROPPED)
        # Any other 4xx means the benchmark asked something wrong (or the app broke): an error too.
        self.unexpected = sum(1 for o in self.outcomes if 400 <= o.status < 500 and o.status not in (409, 429))
        self.errors = self.server_errors + self.timeouts + self.connect_errors + self.dropped + self.unexpected
        lags = sorted(o.lag * 1000 for o in self.outcomes)
        self.lag_p99 = lags[max(0, math.ceil(0.99 * len(lags)) - 1)] if lags else 0.0

    def p(self, q: float) -> float | None:
        return percentile(self.latencies, q)

    def kind_latencies(self, kind: str) -> list[float]:
        return sorted(o.latency * 1000 for o in self.outcomes if o.kind == kind and o.status > 0)

    def kind_p99(self, kind: str) -> float | None:
        return percentile(self.kind_latencies(kind), 0.99)

    def held(self, p99_limit_ms: float) -> bool:
        """No error and a p99 within the limit (a run too short for a p99 is not held)."""
        p99 = self.p(0.99)
        return self.errors == 0 and p99 is not None and p99 <= p99_limit_ms

    def statuses(self) -> dict[str, int]:
        """Counts of everything that was not a plain success, by status (and error code)."""
        found: dict[str, int] = {}
        names = {TIMEOUT: "timeout", CONNECT_ERROR: "connect error", DROPPED: "dropped"}
        for o in self.outcomes:
            if o.status >= 400 or o.status < 0:
                key = names.get(o.status) or f"{o.status}{' ' + o.code if o.code else ''}"
                key = f"{o.kind}: {key}"
                found[key] = found.get(key, 0) + 1
        return found


def ms(value: float | None) -> str:
    """A latency for a table: "—" when there were too few samples."""
    return "—" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"
