"""`ledgerlink serve --socket-mode` against a local fake of Slack's Socket Mode: requests come
over a WebSocket, are acknowledged in time, and the connection survives what Slack does to it."""

from __future__ import annotations

import signal
import subprocess
from urllib.parse import parse_qsl

import pytest

from handlers import ids
from tests.conftest import ADMIN
from tests.fakes.process import ServeProcess
from tests.fakes.slack_requests import slash_command

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(serve_env, socket_mode, tmp_path):
    """`ledgerlink serve --socket-mode`, connected: Slack said hello on its first socket."""
    env = {**serve_env, "SLACK_APP_TOKEN": socket_mode.app_token}
    process = ServeProcess(env, tmp_path, args=("--socket-mode",)).start()
    socket_mode.wait_for_links(1)
    yield process
    process.stop()


def command(fake_slack, text: str, key: str) -> dict:
    """A slash command's Socket Mode payload: the fields Slack posts over HTTP, as JSON."""
    form = slash_command(
        text, user_id=ADMIN, team_id=fake_slack.team_id, response_url=fake_slack.response_url(key)
    )
    return dict(parse_qsl(form))


def interaction(fake_slack, kind: str, **fields) -> dict:
    return {
        "type": kind,
        "team": {"id": fake_slack.team_id, "domain": "acme"},
        "user": {"id": ADMIN, "team_id": fake_slack.team_id},
        "api_app_id": "A0001",
        "token": "deprecated-verification-token",
        **fields,
    }


def status_is_answered(fake_slack, socket_mode, key: str) -> None:
    """`/integrations status` over the socket: acknowledged within 3 s, then answered."""
    envelope = socket_mode.send("slash_commands", command(fake_slack, "status", key))
    ack = socket_mode.wait_for_ack(envelope)
    assert ack.message["envelope_id"] == envelope and ack.seconds < 3
    assert "Not connected" in fake_slack.wait_for_response(key).args["text"]


def test_commands_buttons_forms_and_options_are_acknowledged_in_time(
    server, fake_slack, socket_mode
):
    """A slash command, a button, a modal submission with a mistake and an options load each
    get their envelope acknowledged within 3 s, with the payload Slack needs (field errors,
    options), and the work behind them is done with the bot token."""
    status_is_answered(fake_slack, socket_mode, "s1")

    button = socket_mode.send(
        "interactive",
        interaction(
            fake_slack,
            "block_actions",
            trigger_id="13345224609.738474920.8088930838d88f",
            channel={"id": "C0001"},
            container={"type": "message", "message_ts": "1.1"},
            response_url=fake_slack.response_url("b1"),
            actions=[
                {
                    "type": "button",
                    "action_id": ids.OPEN_SETTINGS,
                    "block_id": "home",
                    "value": "open",
                    "action_ts": "1.2",
                }
            ],
        ),
    )
    ack = socket_mode.wait_for_ack(button)
    assert ack.message == {"envelope_id": button}  # a plain acknowledgement, no payload
    [opened] = fake_slack.wait_for(lambda fake: fake.calls_to("views.open"))
    assert opened.token == fake_slack.bot_token
    assert opened.args["trigger_id"] == "13345224609.738474920.8088930838d88f"

    text = "plain_text_input"
    values = {
        ids.ITEM_SUPPLIER_BLOCK: {ids.ITEM_SUPPLIER: {"type": text, "value": "Costa"}},
        ids.ITEM_DATE_BLOCK: {ids.ITEM_DATE: {"type": "datepicker", "selected_date": "2026-11-20"}},
        ids.ITEM_TOTAL_BLOCK: {ids.ITEM_TOTAL: {"type": text, "value": "-4"}},
    }
    submission = socket_mode.send(
        "interactive",
        interaction(
            fake_slack,
            "view_submission",
            trigger_id="1.2.3",
            view={
                "id": "V0001",
                "type": "modal",
                "callback_id": ids.ITEM_VIEW,
                "private_metadata": "C0001",
                "state": {"values": values},
            },
        ),
    )
    ack = socket_mode.wait_for_ack(submission)
    assert ack.seconds < 3
    assert ack.payload["response_action"] == "errors"
    assert set(ack.payload["errors"]) == {ids.ITEM_TOTAL_BLOCK}

    options = socket_mode.send(
        "interactive",
        interaction(
            fake_slack,
            "block_suggestion",
            action_id=ids.ITEM_CATEGORY,
            block_id=ids.ITEM_CATEGORY_BLOCK,
            value="rent",
            container={"type": "view", "view_id": "V0001"},
        ),
    )
    ack = socket_mode.wait_for_ack(options)
    assert ack.seconds < 3 and ack.payload == {"options": []}  # no accounts synced yet
    assert fake_slack.calls_to("apps.connections.open")[0].token == socket_mode.app_token


def test_a_dropped_socket_reconnects(server, fake_slack, socket_mode):
    """When Slack closes the connection, the app at once (not at its next 10-second health
    check) asks apps.connections.open for a new URL, connects again, and answers commands on
    the new socket."""
    socket_mode.drop()
    first, second = socket_mode.wait_for_links(2, timeout=5)
    assert first.closed.wait(5), "the dropped connection was not let go"
    assert not second.closed.is_set()
    assert len(fake_slack.calls_to("apps.connections.open")) == 2
    status_is_answered(fake_slack, socket_mode, "s2")


def test_a_disconnect_envelope_moves_the_app_to_a_new_socket(server, fake_slack, socket_mode):
    """Slack's `disconnect` envelope (refresh_requested) makes the app open a new connection
    and leave the old one; commands are then answered on the new socket."""
    socket_mode.ask_to_reconnect("refresh_requested")
    first, second = socket_mode.wait_for_links(2)
    assert first.closed.wait(5), "the old connection was not closed"
    assert not second.closed.is_set()
    assert len(fake_slack.calls_to("apps.connections.open")) == 2
    status_is_answered(fake_slack, socket_mode, "s3")


def test_sigterm_closes_the_socket_and_exits_cleanly(server, socket_mode):
    """SIGTERM stops `ledgerlink serve --socket-mode` with exit code 0, its WebSocket closed,
    and the app-level token never written to the log."""
    [link] = socket_mode.wait_for_links(1)
    server.process.send_signal(signal.SIGTERM)
    try:
        assert server.process.wait(15) == 0
    except subprocess.TimeoutExpired:
        pytest.fail(f"ledgerlink serve did not stop:\n{server.log()}")
    assert link.closed.wait(5), "the WebSocket stayed open"
    log = server.log()
    # closed by the app on its way out, not left for the operating system to drop at exit
    assert 0 <= log.index("The connection has been closed") < log.index("INFO ledgerlink: stopped")
    assert socket_mode.app_token not in log
