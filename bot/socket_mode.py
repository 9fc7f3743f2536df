"""Socket Mode for `ledgerlink serve --socket-mode`: Bolt's built-in handler (no extra
dependency), reconnecting as soon as Slack closes the connection, and closing for sure.

slack_sdk's client opens a new connection at once when Slack sends a `disconnect` envelope,
but when Slack closes the socket itself the client waits for its next health check (up to the
ping interval, 10 s) before reconnecting, and requests sent meanwhile go unanswered.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackClientError

log = logging.getLogger("ledgerlink.socket_mode")

LOCK_WAIT_SECONDS = 5
CLOSE_SECONDS = 10.0


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    handler = SocketModeHandler(app, app_token)
    client = handler.client

    def reconnect_now(code: int, reason: str | None) -> None:
        """Called on the closed connection's own thread, before the client notices."""
        closed = client.current_session
        if client.closed or not client.connect_operation_lock.acquire(timeout=LOCK_WAIT_SECONDS):
            return  # stopping; or busy connecting, and the health check will follow up
        try:
            if client.closed or client.current_session is not closed:
                return  # stopping, or already replaced (after a `disconnect` envelope)
            log.info("Slack closed the Socket Mode connection (%s %s); reconnecting", code, reason)
            client.wss_uri = client.issue_new_wss_url()
            client.connect()
        except (SlackClientError, OSError) as error:
            log.warning("could not reconnect to Slack yet (%s); trying again shortly", error)
        finally:
            client.connect_operation_lock.release()

    client.on_close_listeners.append(reconnect_now)
    return handler


def close_socket_mode(handler: SocketModeHandler, timeout: float = CLOSE_SECONDS) -> bool:
    """Close the connection and stop the client's threads; False if they did not stop in time.

    slack_sdk's session thread clears the stop flag when it starts receiving on a new
    connection; if `close()` set the flag just before, that thread would wait forever for a
    connection that is gone, and `close()` with it. So the flag is set again until it stops.
    """
    closing = threading.Thread(target=handler.close, name="socket-mode-close", daemon=True)
    closing.start()
    deadline = time.monotonic() + timeout
    while closing.is_alive() and time.monotonic() < deadline:
        handler.client.current_session_state.terminated = True
        closing.join(0.1)
    if closing.is_alive():
        log.warning("the Socket Mode client did not stop within %.0f s", timeout)
    return not closing.is_alive()
