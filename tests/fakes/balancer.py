"""A round-robin HTTP load balancer on 127.0.0.1, in front of several `ledgerlink serve`
processes: each request goes to the next process in turn, as behind a real load balancer, so
consecutive requests of one flow (a command, its button, the modal it opens) reach different
processes. It counts what each process served, so a test can tell both really answered."""

from __future__ import annotations

import itertools
import threading
from http.server import BaseHTTPRequestHandler

import httpx

from tests.fakes.loopback import QueueingServer, read_request

# Hop-by-hop headers and those the body as forwarded makes stale.
_DROPPED = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class Balancer:
    def __init__(self, upstreams: list[str]):
        self.upstreams = upstreams
        self.served = [0] * len(upstreams)
        self._turns = itertools.cycle(range(len(upstreams)))
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=60, follow_redirects=False)
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self):
                balancer._relay(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

            def log_message(self, *args):
                pass

        self._server = QueueingServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Balancer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def _relay(self, handler: BaseHTTPRequestHandler) -> None:
        request = read_request(handler, self.url)
        with self._lock:
            turn = next(self._turns)
            self.served[turn] += 1
        upstream = httpx.URL(self.upstreams[turn])
        response = self._client.request(
            request.method,
            request.url.copy_with(host=upstream.host, port=upstream.port),
            headers=[(k, v) for k, v in request.headers.multi_items() if k.lower() not in _DROPPED],
            content=request.content,
        )
        body = b"" if request.method == "HEAD" else response.content
        handler.send_response(response.status_code)
        for name, value in response.headers.multi_items():  # Set-Cookie stays separate
            if name.lower() not in _DROPPED | {"content-encoding"}:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(response.content)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True
