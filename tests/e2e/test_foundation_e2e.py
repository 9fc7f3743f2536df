"""End to end through `ledgerlink serve`: signed Slack requests in, fake Slack calls out."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from handlers.grammar import SUBCOMMANDS
from tests.conftest import ADMIN, SIGNING_SECRET, STAFF
from tests.fakes.slack_requests import event_callback, slash_command

pytestmark = pytest.mark.e2e


def command(server, fake_slack, text: str, *, user: str = ADMIN, key: str = "r1"):
    body = slash_command(
        text, user_id=user, team_id=fake_slack.team_id, response_url=fake_slack.response_url(key)
    )
    return server.post_signed(body)


def test_help_lists_every_subcommand_privately(serve, fake_slack):
    """`/integrations help` is acknowledged at once and answered through response_url."""
    server = serve()
    response = command(server, fake_slack, "help")
    assert response.status_code == 200
    reply = fake_slack.wait_for_response("r1").args
    text = str(reply["blocks"])
    for name in SUBCOMMANDS:
        assert f"/integrations {name}" in text
    assert reply.get("response_type", "ephemeral") == "ephemeral"


def test_status_when_nothing_is_connected(serve, fake_slack):
    """`status` on a fresh workspace says it is not connected and how to connect."""
    server = serve()
    command(server, fake_slack, "status", user=STAFF)
    reply = fake_slack.wait_for_response("r1").args
    assert reply["text"] == (
        "Not connected. An admin can run `/integrations connect xero` or "
        "`/integrations connect quickbooks`."
    )


def test_unknown_subcommand_gets_usage_and_suggestion(serve, fake_slack):
    """A typo gets a private error naming the word and a "did you mean"."""
    server = serve()
    command(server, fake_slack, "stauts", user=STAFF)
    reply = fake_slack.wait_for_response("r1").args
    assert "I don't know `stauts`" in reply["text"]
    assert "Did you mean `/integrations status`?" in reply["text"]


def test_non_admin_cannot_add_admins(serve, fake_slack):
    """A staff member running `admins add` is refused politely, and nothing is granted."""
    server = serve(LEDGERLINK_ADMINS="UBOSS01")
    command(server, fake_slack, "admins add <@UOTHER1|other>", user=STAFF)
    reply = fake_slack.wait_for_response("r1").args
    assert reply["text"].startswith("Sorry, only ledgerlink admins can add or remove")
    assert "<@UBOSS01>" in reply["text"]
    # The refusal was based on Slack's own answer about the user.
    assert [c.args["user"] for c in fake_slack.calls_to("users.info")] == [STAFF]
    command(server, fake_slack, "admins", user=STAFF, key="r2")
    listing = fake_slack.wait_for_response("r2").args
    assert "UOTHER1" not in listing["text"]


def test_admin_can_add_then_list_admins(serve, fake_slack):
    """A Slack workspace admin adds an admin, who then shows up in the list."""
    server = serve()
    command(server, fake_slack, "admins add <@UOTHER1|other>")
    assert (
        "<@UOTHER1> is now a ledgerlink admin." in fake_slack.wait_for_response("r1").args["text"]
    )
    command(server, fake_slack, "admins", user=STAFF, key="r2")
    assert "<@UOTHER1>" in fake_slack.wait_for_response("r2").args["text"]


@pytest.mark.parametrize("case", ["missing", "wrong", "stale"])
def test_bad_signatures_are_refused_without_calling_slack(serve, fake_slack, case):
    """Missing, wrong and 5-minute-old signatures get 401 and cause no Slack call."""
    server = serve()
    body = slash_command(
        "help", user_id=ADMIN, team_id=fake_slack.team_id, response_url=fake_slack.response_url()
    )
    if case == "missing":
        response = httpx.post(
            f"{server.url}/slack/events",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    elif case == "wrong":
        response = server.post_signed(body, secret="not-the-secret")
    else:
        response = server.post_signed(body, timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 401
    time.sleep(0.3)
    assert fake_slack.responses == []
    assert [c.method for c in fake_slack.calls if c.method != "auth.test"] == []


def test_body_altered_after_signing_is_refused(serve, fake_slack):
    """A body changed after it was signed fails verification."""
    server = serve()
    body = slash_command(
        "help", user_id=ADMIN, team_id=fake_slack.team_id, response_url=fake_slack.response_url()
    )
    from tests.fakes.slack_requests import signed_headers

    headers = signed_headers(SIGNING_SECRET, body)
    response = httpx.post(
        f"{server.url}/slack/events", content=body.replace("help", "admins"), headers=headers
    )
    assert response.status_code == 401


def test_huge_body_gets_413(serve):
    """A 2 MiB body is refused with 413."""
    server = serve()
    response = httpx.post(
        f"{server.url}/slack/events",
        content=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_healthz_and_unknown_routes(serve):
    """/healthz answers 200 from the database; unknown paths are 404, wrong methods 405."""
    server = serve()
    health = httpx.get(f"{server.url}/healthz")
    assert (health.status_code, health.json()) == (200, {"ok": True})
    assert httpx.get(f"{server.url}/nope").status_code == 404
    assert httpx.get(f"{server.url}/slack/events").status_code == 405


def test_app_home_shows_status(serve, fake_slack):
    """Opening the App Home publishes a view with the connection status."""
    server = serve()
    body = event_callback(
        {"type": "app_home_opened", "user": STAFF, "channel": "D1", "tab": "home"},
        team_id=fake_slack.team_id,
    )
    assert server.post_signed(body, content_type="application/json").status_code == 200
    call = fake_slack.wait_for(lambda f: f.calls_to("views.publish"))[0]
    assert call.args["user_id"] == STAFF
    assert "Not connected" in str(call.args["view"])


def test_sigterm_finishes_in_flight_request_and_exits_zero(serve, fake_slack):
    """SIGTERM stops the server cleanly: exit 0 within a few seconds."""
    server = serve()
    command(server, fake_slack, "help")
    fake_slack.wait_for_response("r1")
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(10) == 0
    assert time.monotonic() - started < 5
    assert "stopped" in server.log()


def test_no_secrets_in_logs(serve, fake_slack, serve_env):
    """Neither the bot token nor the signing secret appears in an e2e run's logs."""
    server = serve()
    command(server, fake_slack, "help")
    command(server, fake_slack, "bogus", key="r2")
    command(server, fake_slack, "admins add <@UX1>", user=STAFF, key="r3")
    fake_slack.wait_for_response("r3")
    server.stop()
    log = server.log()
    assert "POST /slack/events 200" in log  # the log really was captured
    for secret in (
        serve_env["SLACK_BOT_TOKEN"],
        serve_env["SLACK_SIGNING_SECRET"],
        serve_env["LEDGERLINK_SECRET_KEY"],
    ):
        assert secret not in log
