"""Serve an `httpx`-style handler (`handle(httpx.Request) -> httpx.Response`) on 127.0.0.1.

The provider fakes are written as handlers so unit tests can mount them on
`httpx.MockTransport`; this puts the same handler behind a real socket for end-to-end tests,
where `ledgerlink serve` runs in another process.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import httpx

STOP_POLL_SECONDS = 0.02


class QueueingServer(ThreadingHTTPServer):
    # socketserver's default backlog of 5 resets connections when many requests arrive at
    # once; the real services don't, so neither do the fakes under load.
    request_queue_size = 256
    daemon_threads = True


def read_request(handler: BaseHTTPRequestHandler, base_url: str) -> httpx.Request:
    """The request an http.server handler received, as an `httpx.Request`."""
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    return httpx.Request(
        handler.command,
        f"{base_url}{handler.path}",
        headers=list(handler.headers.items()),
        content=body,
    )


def send_head(handler: BaseHTTPRequestHandler, response: httpx.Response, length: int) -> None:
    """Send response's status line and headers, with Content-Length = length (the body as read,
    so hop-by-hop and encoding headers of the fake's response are dropped)."""
    handler.send_response(response.status_code)
    for name, value in response.headers.multi_items():  # repeated ones (Set-Cookie) stay apart
        if name.lower() not in (
            "content-length",
            "transfer-encoding",
            "content-encoding",
            "connection",
        ):
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(length))


class Served:
    """A server (http.server's, or websockets') on 127.0.0.1 at a free port, run by a daemon
    thread from `start` (or `with`) until `stop`."""

    def _serve(self, server) -> None:
        self._server = server
        if isinstance(server, socketserver.BaseServer):
            # `shutdown` waits for the loop to look at its flag, by default every half second:
            # every test would wait that long for each fake it stops.
            def loop() -> None:
                server.serve_forever(poll_interval=STOP_POLL_SECONDS)
        else:
            loop = server.serve_forever
        self._thread = threading.Thread(target=loop, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class LoopbackServer(Served):
    def __init__(self, handle: Callable[[httpx.Request], httpx.Response]):
        self.handle = handle
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                response = server.handle(read_request(self, server.url))
                data = response.read()
                send_head(self, response, len(data))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self._serve(QueueingServer(("127.0.0.1", 0), Handler))
