"""Socket Mode's client in process, against the loopback fake: stopping it is never stuck."""

from __future__ import annotations

import logging
import threading
import time

from slack_bolt import App

from bot.slack_clients import web_client
from bot.socket_mode import close_socket_mode, socket_mode_handler


class PausingLogger(logging.LoggerAdapter):
    """Holds slack_sdk's session thread where it logs that it starts receiving, until the
    client has been closed: the moment where a stop request used to be lost."""

    def __init__(self, client):
        super().__init__(logging.getLogger("tests.socket_mode"), {})
        self.client = client
        self.paused = threading.Event()

    def info(self, msg, *args, **kwargs):
        if str(msg).startswith("Starting to receive messages") and not self.paused.is_set():
            self.paused.set()
            deadline = time.monotonic() + 10
            session = self.client.current_session
            while not (self.client.closed and session.sock is None):
                assert time.monotonic() < deadline, "the client was not closed"
                time.sleep(0.01)
        super().info(msg, *args, **kwargs)


def test_closing_as_the_session_thread_starts_still_stops_the_client(fake_slack, socket_mode):
    """A stop that lands just as slack_sdk's session thread starts on a new connection (which
    clears the stop flag) still stops every thread, and the socket is closed."""
    app = App(client=web_client(fake_slack.api_url, fake_slack.bot_token), signing_secret="s")
    handler = socket_mode_handler(app, socket_mode.app_token)
    logger = PausingLogger(handler.client)
    handler.client.logger = logger
    handler.connect()
    [link] = socket_mode.wait_for_links(1)
    assert logger.paused.wait(10), "the session thread never started"
    assert close_socket_mode(handler, timeout=5)
    assert handler.client.current_session_runner.thread is None  # joined
    assert link.closed.wait(5)
