"""End to end through `ledgerlink serve`: signed Slack requests in, fake Slack calls out."""

from __future__ import annotations

import signal
import socket
import threading
import time

import httpx
import pytest

from handlers.grammar import SUBCOMMANDS
from store import open_store
from tests.conftest import ADMIN, SIGNING_SECRET, STAFF
from tests.e2e.chat import Chat, connect
from tests.fakes.databases import both_backends
from tests.fakes.process import ServeCluster
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


@both_backends
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
    # A good request after it: once its reply is in, the refused one had its chance to act.
    command(server, fake_slack, "help", key="after")
    fake_slack.wait_for_response("after")
    assert [r.method for r in fake_slack.responses] == ["after"]
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


@both_backends
def test_sigterm_finishes_in_flight_request_and_exits_zero(
    serve, fake_slack, serve_env, database_target
):
    """SIGTERM while an items API request is still being handled (Slack is slow to take its
    message): the server stops accepting, the request completes with its 201, and the
    process exits 0. (On PostgreSQL, one of the two processes: the other keeps serving.)"""
    started = serve()
    server = started.members[0] if isinstance(started, ServeCluster) else started
    store = open_store(database_target, secret_key=serve_env["LEDGERLINK_SECRET_KEY"])
    try:
        _, token = store.create_api_token(fake_slack.team_id, "sigterm")
    finally:
        store.close()
    slow_slack = fake_slack.hold("chat.postMessage")
    answer: list[httpx.Response] = []
    submit = threading.Thread(
        target=lambda: answer.append(
            httpx.post(
                f"{server.url}/api/items",
                json={
                    "supplier": "In Flight Ltd",
                    "date": "2026-11-20",
                    "total": "7.5",
                    "channel": "C0001",
                },
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        )
    )
    submit.start()
    assert slow_slack.hit.wait(10), "the request never reached Slack"

    server.process.send_signal(signal.SIGTERM)
    wait_for_log(server, "stopping: no new connections")
    wait_refused(server.url)
    # Slack stays slow a while longer: past any shortcut, well within the 10 s grace.
    time.sleep(1.0)
    assert answer == [] and server.process.poll() is None  # still in flight, still running
    slow_slack.release.set()
    submit.join(10)

    assert [(r.status_code, r.json()["status"]) for r in answer] == [(201, "held")]
    assert server.process.wait(10) == 0
    assert "stopped" in server.log()


def test_sigterm_lets_a_sync_in_progress_finish_before_saying_stopped(
    serve, fake_slack, provider_env, xero
):
    """SIGTERM while the first sync is reading Xero: the sync finishes, and only then does the
    process log "stopped" (its last line) and exit 0. An operator reading "stopped" can
    trust that nothing is still running."""
    reading, release = threading.Event(), threading.Event()
    handle = xero.handle

    def slow_contacts(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Contacts"):
            reading.set()
            release.wait(20)
        return handle(request)

    xero.handle = slow_contacts
    server = serve(**provider_env)
    connect(Chat(server, fake_slack))
    assert reading.wait(10), "the first sync never read the contacts"

    stopping = threading.Thread(target=server.stop)
    stopping.start()
    wait_for_log(server, "stopping: waiting for background work")
    release.set()
    stopping.join(20)

    assert not stopping.is_alive() and server.process.returncode == 0
    members = server.members if isinstance(server, ServeCluster) else [server]
    logs = [member.log().strip().splitlines() for member in members]
    assert all(lines[-1].endswith("INFO ledgerlink: stopped") for lines in logs), logs
    [synced] = [lines for lines in logs if any(": ok in " in line for line in lines)]
    assert max(i for i, line in enumerate(synced) if ": ok in " in line) < len(synced) - 1


def wait_refused(url: str, timeout: float = 10.0) -> None:
    """Wait until the server no longer accepts connections."""
    address = httpx.URL(url)
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((address.host, address.port), timeout=1).close()
        except ConnectionRefusedError:
            return
        assert time.monotonic() < deadline, "the server still accepts connections"
        time.sleep(0.02)


def wait_for_log(server, line: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while line not in server.log():
        assert time.monotonic() < deadline, f"never logged {line!r}:\n{server.log()}"
        time.sleep(0.02)


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


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_on_postgresql_two_processes_share_slacks_requests(serve, fake_slack):
    """On PostgreSQL `serve` is two processes behind a round-robin balancer: consecutive slash
    commands reach both processes, and each command is answered."""
    server = serve()
    assert isinstance(server, ServeCluster)
    for n in range(4):
        assert command(server, fake_slack, "status", key=f"r{n}").status_code == 200
    for n in range(4):
        assert "Not connected" in fake_slack.wait_for_response(f"r{n}").args["text"]
    assert server.balancer.served == [2, 2]
    for member in server.members:
        assert "POST /slack/events 200" in member.log()
