"""A loopback server for the provider fakes that misbehaves on command, below HTTP.

`tests.fakes.loopback.LoopbackServer` puts a fake's `handle(httpx.Request) -> httpx.Response`
behind a real socket; `FaultyLoopback` does the same, and can also break the exchange the way
networks and overloaded providers do, for the next requests whose path ends with a suffix:

* `reset`: the connection is reset before the fake sees the request;
* `reset_after`: the fake handles the request (its side effects happen), then the connection
  is reset, so the answer is lost (what a retry with an idempotency key must survive);
* `truncate`: the answer stops half way through its body (Content-Length promises more);
* `garbage`: a 200 whose body is an HTML maintenance page instead of JSON;
* `slow`: the answer comes after SLOW_SECONDS (an overloaded provider);
* `pause(...)`: the fake handles the request, then the answer waits until the test lets it
  go (the test kills the server meanwhile).

Canned HTTP answers (5xx, 429 with Retry-After, XML throttles) go through the fakes' own
`queue(path, response)`; `status(...)` builds them. `served` counts every fault delivered.
"""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import httpx

from tests.fakes.loopback import QueueingServer, Served, read_request, send_head

FAULTS = ("reset", "reset_after", "truncate", "garbage", "slow")
SLOW_SECONDS = 2.0
MAINTENANCE_PAGE = b"<html><body><h1>Down for maintenance</h1></body></html>"


def status(
    code: int,
    *,
    retry_after: float | None = None,
    problem: str | None = None,
    body: dict | None = None,
) -> httpx.Response:
    """A canned HTTP answer: `code`, an optional Retry-After and Xero rate-limit problem."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    if problem is not None:
        headers["X-Rate-Limit-Problem"] = problem
    return httpx.Response(code, json=body or {"Title": "fault", "Status": code}, headers=headers)


@dataclass
class Gate:
    """A paused answer: `hit` is set once the fake handled the request; the answer is written
    (to a socket that may be gone) when `release` is set."""

    hit: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    request: httpx.Request | None = None


class FaultyLoopback(Served):
    def __init__(self, handle: Callable[[httpx.Request], httpx.Response]):
        self.handle = handle
        self.served: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._faults: deque[tuple[str, str | None, str]] = deque()
        self._gates: deque[tuple[str, str | None, Gate]] = deque()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                server._exchange(self, read_request(self, server.url))

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self._serve(QueueingServer(("127.0.0.1", 0), Handler))

    # -- commands ---------------------------------------------------------------------------

    def inject(self, suffix: str, fault: str, *, method: str | None = None, times: int = 1):
        """Break the next `times` requests whose path ends with `suffix` (and method matches)."""
        assert fault in FAULTS, fault
        with self._lock:
            self._faults.extend([(suffix, method, fault)] * times)

    def pause(self, suffix: str, *, method: str | None = None) -> Gate:
        """Hold the answer to the next matching request until the returned gate is released."""
        gate = Gate()
        with self._lock:
            self._gates.append((suffix, method, gate))
        return gate

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            for _, _, gate in self._gates:
                gate.release.set()
            self._gates.clear()

    # -- serving ----------------------------------------------------------------------------

    def _take(self, queue: deque, request: httpx.Request):
        with self._lock:
            for entry in queue:
                suffix, method = entry[0], entry[1]
                if request.url.path.endswith(suffix) and method in (None, request.method):
                    queue.remove(entry)
                    return entry[2]
        return None

    def _exchange(self, handler: BaseHTTPRequestHandler, request: httpx.Request) -> None:
        fault = self._take(self._faults, request)
        gate = self._take(self._gates, request)
        if fault is not None:
            self.served[fault] += 1
        if fault == "reset":
            _reset(handler)
            return
        if fault == "slow":
            time.sleep(SLOW_SECONDS)
        response = self.handle(request)
        data = response.read()
        if fault == "reset_after":
            _reset(handler)
            return
        if gate is not None:
            gate.request = request
            gate.hit.set()
            gate.release.wait(30)
        if fault == "garbage":
            response, data = (
                httpx.Response(200, headers={"Content-Type": "text/html"}),
                (MAINTENANCE_PAGE),
            )
        try:
            send_head(handler, response, len(data))
            if fault == "truncate":
                data = data[: len(data) // 2]
            handler.end_headers()
            handler.wfile.write(data)
            handler.wfile.flush()
        except OSError:  # the client (a killed server) is gone
            handler.close_connection = True

    # -- lifecycle --------------------------------------------------------------------------

    def stop(self) -> None:
        self.clear()
        super().stop()


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection with a TCP reset, without a byte of answer."""
    handler.close_connection = True
    sock = handler.connection
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    handler.wfile = io.BytesIO()  # what the request handler flushes after the socket is gone
