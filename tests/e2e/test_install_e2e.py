"""Multi-workspace mode: installing the app from /slack/install, then using it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import ADMIN
from tests.fakes.databases import both_backends, database_for
from tests.fakes.process import wait_until
from tests.fakes.slack_requests import event_callback, slash_command

pytestmark = pytest.mark.e2e


@pytest.fixture
def install_env(serve_env):
    env = {
        **serve_env,
        "SLACK_BOT_TOKEN": None,
        "SLACK_CLIENT_ID": "111.222",
        "SLACK_CLIENT_SECRET": "slack-client-secret-42a7",
    }
    return env


def install(server, fake_slack) -> None:
    """/slack/install → Slack's consent (the fake) → /slack/oauth_redirect, as a browser."""
    with httpx.Client(base_url=server.url, timeout=10) as browser:
        install = browser.get("/slack/install", follow_redirects=False)
        assert install.status_code in (200, 302)
        link = install.headers.get("Location") or next(
            part.split('"', 1)[0]
            for part in install.text.split('href="')
            if "/oauth/v2/authorize" in part.split('"', 1)[0]
        )
        authorize = urlsplit(link.replace("&amp;", "&"))
        assert f"{authorize.scheme}://{authorize.netloc}/" == fake_slack.base_url + "/"
        query = parse_qs(authorize.query)
        assert query["client_id"] == ["111.222"]
        assert set(query["scope"][0].split(",")) == {
            "commands",
            "chat:write",
            "users:read",
            "im:write",
        }
        state = query["state"][0]
        # Bolt's state cookie is Secure (production is https); a browser sends it back, and
        # so does this test over plain http.
        cookie = install.headers["set-cookie"].split(";", 1)[0]
        done = browser.get(
            "/slack/oauth_redirect",
            params={"code": "good-code", "state": state},
            headers={"Cookie": cookie},
        )
        assert done.status_code == 200, done.text
    [access] = fake_slack.calls_to("oauth.v2.access")
    assert access.args["code"] == "good-code"


def ask_status(server, fake_slack, key: str) -> None:
    body = slash_command(
        "status",
        user_id=ADMIN,
        team_id=fake_slack.team_id,
        response_url=fake_slack.response_url(key),
    )
    assert server.post_signed(body).status_code == 200


def database_bytes(env) -> bytes:
    """Everything the database holds (on SQLite, its files byte for byte)."""
    return database_for(env).stored_bytes()


def test_install_then_slash_command_uses_the_installed_token(serve, install_env, fake_slack):
    """After an install the database file holds the workspace's bot and refresh tokens only
    encrypted, and a command from that workspace is answered with the installed token."""
    fake_slack.bot_refresh_token = "xoxe-1-fake-refresh-token-7d21"
    server = serve(**install_env)
    install(server, fake_slack)
    ask_status(server, fake_slack, "r1")
    assert "Not connected" in fake_slack.wait_for_response("r1").args["text"]
    assert any(
        call.token == fake_slack.bot_token
        for call in fake_slack.calls
        if call.method != "oauth.v2.access"
    )
    stored = database_bytes(install_env)
    assert b"slack_bots" in stored  # the installation is in this file
    assert fake_slack.bot_token.encode() not in stored
    assert fake_slack.bot_refresh_token.encode() not in stored
    log = server.log()
    assert "slack-client-secret-42a7" not in log and fake_slack.bot_token not in log


@both_backends
def test_uninstalling_deletes_the_installed_tokens(serve, install_env, fake_slack):
    """Slack's app_uninstalled event deletes the workspace's installation rows."""
    server = serve(**install_env)
    install(server, fake_slack)
    db = database_for(install_env)
    assert db.value("SELECT count(*) FROM slack_bots") == 1
    event = event_callback({"type": "app_uninstalled"}, team_id=fake_slack.team_id)
    response = server.post_signed(event, content_type="application/json")
    assert response.status_code == 200
    wait_until(
        lambda: db.value("SELECT count(*) FROM slack_installations") == 0,
        "the installation's deletion",
        10,
    )
    assert db.value("SELECT count(*) FROM slack_bots") == 0


@both_backends
def test_install_with_a_forged_state_is_refused(serve, install_env, fake_slack):
    """An OAuth redirect with a state the server never issued stores nothing."""
    server = serve(**install_env)
    response = httpx.get(
        f"{server.url}/slack/oauth_redirect", params={"code": "good-code", "state": "forged"}
    )
    assert response.status_code >= 400
    assert fake_slack.calls_to("oauth.v2.access") == []
