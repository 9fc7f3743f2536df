"""The production HTTP server (waitress) with a graceful stop.

On SIGTERM or SIGINT the server stops accepting connections, lets requests already received
finish (up to a grace period), then stops its worker threads; the caller then stops background
work and closes the database.
"""

from __future__ import annotations

import logging
import threading
import time

import waitress
from waitress import wasyncore

from bot.http import MAX_BODY_BYTES

log = logging.getLogger("ledgerlink.server")

GRACE_SECONDS = 10.0
# Waitress accepts 100 connections by default and then stops accepting: 100 idle keep-alive
# connections (a pooling API client, a scanner) would lock Slack out until they time out.
CONNECTION_LIMIT = 1000


class Server:
    def __init__(self, wsgi_app, *, host: str, port: int, threads: int = 16):
        self._server = waitress.create_server(
            wsgi_app,
            host=host,
            port=port,
            threads=threads,
            max_request_body_size=MAX_BODY_BYTES,
            clear_untrusted_proxy_headers=True,
            ident="ledgerlink",
            channel_timeout=60,
            connection_limit=CONNECTION_LIMIT,
        )
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        host = self._server.effective_host
        return f"http://{host}:{self._server.effective_port}"

    def stop(self) -> None:
        """Ask the serving loop to stop; safe to call from a signal handler."""
        self._stopping.set()
        self._server.pull_trigger()

    def serve(self, *, grace: float = GRACE_SECONDS) -> None:
        server = self._server
        socket_map = server._map  # waitress keeps each server's sockets in its own map
        while not self._stopping.is_set():
            wasyncore.loop(timeout=1.0, map=socket_map, use_poll=True, count=1)
        log.info("stopping: no new connections; finishing requests in flight")
        server.accepting = False
        server.del_channel()
        server.socket.close()
        deadline = time.monotonic() + grace
        while self._busy() and time.monotonic() < deadline:
            wasyncore.loop(timeout=0.05, map=socket_map, use_poll=True, count=1)
        remaining = max(deadline - time.monotonic(), 0.1)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=remaining)
        wasyncore.close_all(socket_map)

    def _busy(self) -> bool:
        dispatcher = self._server.task_dispatcher
        if dispatcher.queue or dispatcher.active_count:
            return True
        return any(
            channel.requests or channel.total_outbufs_len
            for channel in list(self._server.active_channels.values())
        )
