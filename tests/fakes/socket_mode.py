"""A fake of Slack's Socket Mode on 127.0.0.1, beside the fake Web API.

The app calls `apps.connections.open` with its app-level token (`xapp-…`) on the fake Web API
(`FakeSlack.socket_mode = FakeSocketMode(...)`), which answers with a single-use
`ws://127.0.0.1:<port>/link/?ticket=…` URL; the app opens a WebSocket there and gets Slack's
`hello`. The test then sends envelopes (slash commands, interactivity, events) as Slack does and
reads the app's acknowledgements (`{"envelope_id": …, "payload": …}`), drops the connection, or
asks the app to reconnect with a `disconnect` envelope. Messages follow
https://docs.slack.dev/apis/events-api/using-socket-mode/.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.fakes.loopback import Served


@dataclass
class Ack:
    envelope_id: str
    message: dict
    seconds: float  # from the envelope being sent to its acknowledgement arriving

    @property
    def payload(self) -> dict | None:
        return self.message.get("payload")


@dataclass
class Link:
    """One WebSocket connection the app opened."""

    socket: ServerConnection
    ticket: str
    closed: threading.Event = field(default_factory=threading.Event)


APP_TOKEN = "xapp-1-A0001-fake-app-token-77"


class FakeSocketMode(Served):
    def __init__(self, app_token: str = APP_TOKEN):
        self.app_token = app_token
        self.links: list[Link] = []
        self.acks: dict[str, Ack] = {}
        self._sent_at: dict[str, float] = {}
        self._tickets: set[str] = set()
        self._changed = threading.Condition()
        self._serve(serve(self._connection, "127.0.0.1", 0, compression=None))

    def stop(self) -> None:  # a websockets server has nothing to close after shutdown
        self._server.shutdown()
        self._thread.join(5)

    # -- the Web API's side: apps.connections.open -----------------------------------------

    def connections_open(self, token: str | None) -> dict:
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        ticket = secrets.token_hex(8)
        with self._changed:
            self._tickets.add(ticket)
        port = self._server.socket.getsockname()[1]
        return {"ok": True, "url": f"ws://127.0.0.1:{port}/link/?ticket={ticket}"}

    # -- the WebSocket side ----------------------------------------------------------------

    def _connection(self, socket: ServerConnection) -> None:
        query = parse_qs(urlsplit(socket.request.path).query)
        ticket = (query.get("ticket") or [""])[0]
        with self._changed:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)  # a URL is good for one connection
        if not valid:
            socket.close(code=1008, reason="invalid ticket")
            return
        link = Link(socket, ticket)
        socket.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {
                        "host": "fake-socket-mode",
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": "A0001"},
                }
            )
        )
        with self._changed:
            self.links.append(link)
            self._changed.notify_all()
        try:
            for raw in socket:
                message = json.loads(raw)
                envelope_id = message.get("envelope_id")
                with self._changed:
                    if envelope_id in self._sent_at and envelope_id not in self.acks:
                        seconds = time.monotonic() - self._sent_at[envelope_id]
                        self.acks[envelope_id] = Ack(envelope_id, message, seconds)
                        self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            link.closed.set()
            with self._changed:
                self._changed.notify_all()

    # -- what a test does ------------------------------------------------------------------

    def send(self, kind: str, payload: dict, *, accepts_response_payload: bool = True) -> str:
        """Send an envelope (`slash_commands`, `interactive` or `events_api`) on the newest
        open connection; returns its envelope_id."""
        link = self.wait_for_links(len(self.links) or 1)[-1]
        envelope_id = str(uuid.uuid4())
        with self._changed:
            self._sent_at[envelope_id] = time.monotonic()
        link.socket.send(
            json.dumps(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": accepts_response_payload,
                    "retry_attempt": 0,
                    "retry_reason": "",
                }
            )
        )
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 3.0) -> Ack:
        """The app's acknowledgement of an envelope; fails if none arrives within `timeout`
        seconds of sending it (Slack's limit is 3)."""
        deadline = self._sent_at[envelope_id] + timeout
        with self._changed:
            while envelope_id not in self.acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"envelope {envelope_id} not acknowledged in {timeout}s")
                self._changed.wait(left)
            return self.acks[envelope_id]

    def wait_for_links(self, count: int, timeout: float = 10.0) -> list[Link]:
        """Wait until the app has opened `count` connections in all; returns them in order."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.links) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.links)} connection(s), expected {count}")
                self._changed.wait(left)
            return list(self.links)

    def drop(self) -> None:
        """Close the newest connection from Slack's side, as a server restart would."""
        self.links[-1].socket.close(code=1001, reason="going away")

    def ask_to_reconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's `disconnect` envelope on the newest connection: the app should open a
        new connection (Slack closes the old one a few seconds later)."""
        self.links[-1].socket.send(
            json.dumps(
                {
                    "type": "disconnect",
                    "reason": reason,
                    "debug_info": {"host": "fake-socket-mode"},
                }
            )
        )
