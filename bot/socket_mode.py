"""Socket Mode for `ledgerlink serve --socket-mode`: Bolt's built-in handler (no extra
dependency), reconnecting as soon as Slack closes the connection.

slack_sdk's client opens a new connection at once when Slack sends a `disconnect` envelope,
but when Slack closes the socket itself it waits for its next health check (up to the ping
interval, 10 s) before reconnecting, and requests sent meanwhile go unanswered.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger("ledgerlink.socket_mode")


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    handler = SocketModeHandler(app, app_token)
    client = handler.client

    def reconnect_now(code: int, reason: str | None) -> None:
        if client.closed or not client.auto_reconnect_enabled:
            return  # we are stopping: nothing to reconnect
        log.info("Slack closed the Socket Mode connection (%s %s); reconnecting", code, reason)
        client.connect_to_new_endpoint(force=True)

    client.on_close_listeners.append(reconnect_now)
    return handler
