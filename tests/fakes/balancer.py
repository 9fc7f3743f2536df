"""A round-robin HTTP load balancer on 127.0.0.1, in front of several `ledgerlink serve`
processes: each request goes to the next process in turn, as behind a real load balancer, so
consecutive requests of one flow (a command, its button, the modal it opens) reach different
processes. It counts what each process served, so a test can tell both really answered."""

from __future__ import annotations

import itertools
import threading

import httpx

from tests.fakes.loopback import LoopbackServer

# Hop-by-hop headers, and the Host of the balancer itself.
_DROPPED = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class Balancer(LoopbackServer):
    def __init__(self, upstreams: list[str]):
        super().__init__(self._relay)
        self.upstreams = upstreams
        self.served = [0] * len(upstreams)
        self._turns = itertools.cycle(range(len(upstreams)))
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=60, follow_redirects=False)

    def stop(self) -> None:
        super().stop()
        self._client.close()

    def _relay(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            turn = next(self._turns)
            self.served[turn] += 1
        upstream = httpx.URL(self.upstreams[turn])
        return self._client.request(
            request.method,
            request.url.copy_with(host=upstream.host, port=upstream.port),
            headers=[(k, v) for k, v in request.headers.multi_items() if k.lower() not in _DROPPED],
            content=request.content,
        )
