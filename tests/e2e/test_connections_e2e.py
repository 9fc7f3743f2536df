"""Connecting, choosing, reconnecting and disconnecting, end to end through `ledgerlink serve`
with the fake Slack server and loopback fake Xero / QuickBooks servers."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN, STAFF
from tests.e2e.chat import Chat, button, click_of, connect, db_rows
from tests.e2e.conftest import follow_login
from tests.fakes.databases import both_backends, database_for
from tests.fakes.slack_requests import event_callback, slash_command, view_submission

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(serve, provider_env):
    return serve(**provider_env)


def test_xero_happy_path(server, fake_slack, xero, serve_env):
    """connect xero → login → one organisation → confirmed in the channel, tokens encrypted."""
    chat = Chat(server, fake_slack)
    reply = chat.command("connect xero")
    assert "Log in to Xero" in reply["text"]
    link = button(reply, "connection_open_provider_login")["url"]
    assert link.startswith(f"{xero.url}/identity/connect/authorize?")
    assert "code_challenge_method=S256" in link
    page = follow_login(server, link)
    assert page.status_code == 200 and "Connected to Xero" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    announcement = fake_slack.wait_for(
        lambda f: next(
            (r.args for r in f.responses if "Connected to" in r.args.get("text", "")), None
        )
    )
    tenant = xero.connections[0]["tenantName"]
    assert announcement["response_type"] == "in_channel"
    assert f"Connected to Xero — *{tenant}*. Connected by <@{ADMIN}>." in announcement["text"]
    assert "The connection expires on " in announcement["text"]
    status = chat.command("status", user=STAFF)
    assert tenant in status["text"] and "days left" in status["text"]
    raw = database_for(serve_env).stored_bytes()
    assert xero.issued_tokens and all(token.encode() not in raw for token in xero.issued_tokens)


def test_quickbooks_happy_path(server, fake_slack, quickbooks):
    """connect quickbooks → login → the realm from the callback is connected with its name."""
    chat = Chat(server, fake_slack)
    page = connect(chat, "qbo")
    assert page.status_code == 200, page.text
    assert "Connected to QuickBooks" in page.text
    status = chat.command("status")
    assert "QuickBooks" in status["text"] and "Connected by" in status["text"]


def test_several_xero_organisations_ask_first(server, fake_slack, xero, serve_env):
    """With two organisations nothing is connected until the admin picks one."""
    xero.connections.append(
        {
            **xero.connections[0],
            "id": "2",
            "tenantId": "tenant-two",
            "tenantName": "<!channel> Two & Co",
        }
    )
    chat = Chat(server, fake_slack)
    page = connect(chat)
    assert "Choose the organisation in Slack" in page.text
    assert db_rows(serve_env, "SELECT count(*) FROM connections") == [(0,)]
    ask = fake_slack.wait_for(
        lambda f: next(
            (r.args for r in f.responses if "Choose the organisation" in r.args.get("text", "")),
            None,
        )
    )
    select = button(ask, "connection_choose_tenant")
    assert [o["text"]["text"] for o in select["options"]][1] == "<!channel> Two & Co"
    option = select["options"][1]
    # A staff member forging the choice is refused, and nothing is connected.
    refused = chat.click(click_of(select, selected_option=option), user=STAFF)
    assert refused["text"].startswith("Sorry, only ledgerlink admins")
    assert db_rows(serve_env, "SELECT count(*) FROM connections") == [(0,)]
    outcome = chat.click(click_of(select, selected_option=option))
    assert "Connected to Xero" in outcome["text"]
    assert db_rows(serve_env, "SELECT tenant_id FROM connections") == [("tenant-two",)]
    status = chat.command("status")
    assert "&lt;!channel&gt; Two &amp; Co" in status["text"] and "<!channel>" not in status["text"]
    # The choice is single-use.
    again = chat.click(click_of(select, selected_option=select["options"][0]))
    assert "expired or was already made" in again["text"]
    assert db_rows(serve_env, "SELECT count(*) FROM connections") == [(1,)]


@both_backends
def test_state_replay_and_unknown_state_are_refused(server, fake_slack, xero, serve_env):
    """A callback whose state was already used, or never issued, gets 400 and stores nothing."""
    chat = Chat(server, fake_slack)
    reply = chat.command("connect xero")
    link = button(reply, "connection_open_provider_login")["url"]
    at_provider = httpx.get(link, follow_redirects=False)
    callback = at_provider.headers["Location"].replace("https://ledgerlink.test", server.url)
    assert httpx.get(callback).status_code == 200
    replay = httpx.get(callback)
    assert replay.status_code == 400 and "expired" in replay.text
    forged = httpx.get(f"{server.url}/oauth/xero/callback?code=x&state=made-up")
    assert forged.status_code == 400
    assert db_rows(serve_env, "SELECT count(*) FROM connections") == [(1,)]


def test_cancelled_consent(server, fake_slack, xero, serve_env):
    """Cancelling at the provider shows a friendly page and says so in Slack."""
    xero.login.deny = True
    chat = Chat(server, fake_slack)
    page = connect(chat)
    assert page.status_code == 200 and "Connection cancelled" in page.text
    message = fake_slack.wait_for(
        lambda f: next((r.args for r in f.responses if "cancelled" in r.args.get("text", "")), None)
    )
    assert message["response_type"] == "ephemeral"
    assert db_rows(serve_env, "SELECT count(*) FROM connections") == [(0,)]


def test_provider_not_configured(serve, fake_slack):
    """Without client credentials the admin is told which variables and redirect URI to set."""
    chat = Chat(serve(LEDGERLINK_PUBLIC_URL="https://books.example.org"), fake_slack)
    reply = chat.command("connect xero")
    assert "`XERO_CLIENT_ID` and `XERO_CLIENT_SECRET`" in reply["text"]
    assert "https://books.example.org/oauth/xero/callback" in reply["text"]


def test_already_connected_offers_reconnect_and_a_confirmed_switch(server, fake_slack, xero):
    """Connecting again offers Reconnect, and switching provider only behind a confirmation."""
    chat = Chat(server, fake_slack)
    connect(chat)
    reply = chat.command("connect quickbooks")
    assert "already connected to Xero" in reply["text"]
    button(reply, "connection_reconnect")
    switch = button(reply, "connection_switch_provider")
    assert "synced lists and supplier rules will be dropped" in switch["confirm"]["text"]["text"]


def test_non_admin_is_refused_on_command_and_forged_button(server, fake_slack, xero, serve_env):
    """A staff member can't connect, nor reconnect or disconnect with a forged button."""
    chat = Chat(server, fake_slack)
    refused = chat.command("connect xero", user=STAFF)
    assert refused["text"].startswith("Sorry, only ledgerlink admins can connect")
    connect(chat)
    [(connection_id,)] = db_rows(serve_env, "SELECT id FROM connections")
    for action_id in ("connection_reconnect", "connection_disconnect"):
        forged = {
            "action_id": action_id,
            "block_id": "b",
            "type": "button",
            "value": str(connection_id),
            "action_ts": "1",
        }
        assert chat.click(forged, user=STAFF)["text"].startswith("Sorry, only ledgerlink admins")
    assert db_rows(serve_env, "SELECT status FROM connections") == [("active",)]


def test_another_workspaces_connection_cannot_be_touched(server, fake_slack, xero, serve_env):
    """A button naming a connection of another workspace changes nothing."""
    chat = Chat(server, fake_slack)
    connect(chat)
    [(connection_id,)] = db_rows(serve_env, "SELECT id FROM connections")
    fake_slack.tokens["xoxb-other"] = "T0002"
    forged = {
        "action_id": "connection_disconnect",
        "block_id": "b",
        "type": "button",
        "value": str(connection_id),
        "action_ts": "1",
    }
    fake_slack.add_user("UOTHERADMIN", admin=True)
    reply = chat.click(forged, user="UOTHERADMIN", team="T0002")
    assert "no longer exists in this workspace" in reply["text"] or "Sorry" in reply["text"]
    assert db_rows(serve_env, "SELECT status FROM connections") == [("active",)]


@both_backends
def test_reconnect_keeps_settings_and_resets_expiry(server, fake_slack, xero, serve_env):
    """Reconnecting to the same organisation renews the same connection and keeps settings."""
    chat = Chat(server, fake_slack)
    connect(chat)
    chat.command("warn-new-supplier off")
    db_rows(
        serve_env,
        "UPDATE connections SET expires_at = '2026-01-01T00:00:00+00:00', status = 'expired'",
    )
    reply = chat.command("reconnect")
    page = follow_login(server, button(reply, "connection_open_provider_login")["url"])
    assert "Connected to Xero" in page.text
    # expires_at: text on SQLite, a timestamp on PostgreSQL; str() reads both.
    rows = db_rows(serve_env, "SELECT id, status, expires_at FROM connections")
    assert len(rows) == 1 and rows[0][1] == "active" and str(rows[0][2]) > "2027"
    assert db_rows(serve_env, "SELECT warn_new_supplier FROM workspaces") == [(0,)]
    assert fake_slack.wait_for(
        lambda f: any("Reconnected to Xero" in r.args.get("text", "") for r in f.responses)
    )


def test_reconnect_to_another_organisation_asks_first(server, fake_slack, xero, serve_env):
    """Picking a different organisation on reconnect needs a confirmation; keeping is safe."""
    chat = Chat(server, fake_slack)
    connect(chat)
    xero.connections[0] = {**xero.connections[0], "tenantId": "tenant-new", "tenantName": "New Org"}
    reply = chat.command("reconnect")
    page = follow_login(server, button(reply, "connection_open_provider_login")["url"])
    assert "Confirm in Slack" in page.text
    ask = fake_slack.wait_for(
        lambda f: next(
            (r.args for r in f.responses if "You chose *New Org*" in r.args.get("text", "")), None
        )
    )
    keep = chat.click(click_of(button(ask, "connection_cancel_tenant_switch")))
    assert "Kept the connection" in keep["text"]
    assert [r[0] for r in db_rows(serve_env, "SELECT tenant_id FROM connections")] != ["tenant-new"]
    reply = chat.command("reconnect")
    follow_login(server, button(reply, "connection_open_provider_login")["url"])
    ask = fake_slack.wait_for(
        lambda f: [r.args for r in f.responses if "You chose *New Org*" in r.args.get("text", "")][
            1:
        ]
    )
    switched = chat.click(click_of(button(ask[0], "connection_confirm_tenant_switch")))
    assert "Connected to Xero" in switched["text"]
    rows = db_rows(serve_env, "SELECT tenant_id, status FROM connections ORDER BY id")
    assert rows[-1] == ("tenant-new", "active") and rows[0][1] == "disconnected"


@both_backends
def test_disconnect_revokes_and_keeps_history(server, fake_slack, xero, serve_env):
    """Disconnect (confirmed) revokes at Xero, marks the row disconnected and keeps it."""
    chat = Chat(server, fake_slack)
    connect(chat)
    prompt = chat.command("disconnect")
    confirmed = chat.click(click_of(button(prompt, "connection_disconnect")))
    assert "Disconnected Xero" in confirmed["text"]
    assert any(r.url.path == "/connect/revocation" for r in xero.calls)
    assert db_rows(serve_env, "SELECT status, disconnected_by FROM connections") == [
        ("disconnected", ADMIN)
    ]
    assert "Not connected" in chat.command("status")["text"]


def test_app_home_buttons_depend_on_role(server, fake_slack, xero):
    """Admins see connection buttons on the App Home; staff see only Settings."""
    for user in (ADMIN, STAFF):
        body = event_callback(
            {"type": "app_home_opened", "user": user, "tab": "home"}, team_id=fake_slack.team_id
        )
        server.post_signed(body, content_type="application/json")
    views = fake_slack.wait_for(
        lambda f: len(f.calls_to("views.publish")) >= 2 and f.calls_to("views.publish")
    )
    by_user = {c.args["user_id"]: str(c.args["view"]) for c in views}
    assert "connection_connect_provider" in by_user[ADMIN]
    assert "connection_connect_provider" not in by_user[STAFF]
    assert "settings_open" in by_user[STAFF]


def test_hostile_organisation_name_is_escaped_everywhere(server, fake_slack, xero):
    """An organisation named like markup can't ping anyone in Slack or inject HTML."""
    xero.connections[0]["tenantName"] = "<script>x</script> <!channel> & Co"
    chat = Chat(server, fake_slack)
    page = connect(chat)
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    announced = fake_slack.wait_for(
        lambda f: next((r for r in f.responses if "Connected to" in r.args.get("text", "")), None)
    )
    assert "&lt;!channel&gt;" in announced.args["text"]
    for response in fake_slack.responses:
        assert "<!channel>" not in str(response.args)


def submit_settings(server, fake_slack, user: str, values: dict) -> httpx.Response:
    return server.post_signed(view_submission(fake_slack.team_id, user, "settings_view", values))


def settings_values(status: str = "DRAFT", warn: bool = False) -> dict:
    return {
        "settings_warn_block": {
            "settings_warn": {
                "type": "checkboxes",
                "selected_options": [{"value": "on"}] if warn else [],
            }
        },
        "settings_channel_block": {
            "settings_channel": {"type": "conversations_select", "selected_conversation": "C0999"}
        },
        "settings_status_block": {
            "settings_status": {"type": "static_select", "selected_option": {"value": status}}
        },
    }


def test_settings_modal_per_role_and_admin_checked_submission(server, fake_slack, serve_env):
    """Admins get an editable modal, staff a read-only one; a forged staff submission is
    refused on the form, a bad value is a field error, and an admin's is saved."""
    for user in (ADMIN, STAFF):
        body = slash_command(
            "settings",
            user_id=user,
            team_id=fake_slack.team_id,
            response_url=fake_slack.response_url(f"s-{user}"),
        )
        assert server.post_signed(body).status_code == 200
    opened = fake_slack.wait_for(
        lambda f: len(f.calls_to("views.open")) >= 2 and f.calls_to("views.open")
    )
    callbacks = sorted(json_view(c)["callback_id"] for c in opened)
    assert callbacks == ["settings_view", "settings_view_readonly"]
    refused = submit_settings(server, fake_slack, STAFF, settings_values())
    assert refused.json()["response_action"] == "errors"
    bad = submit_settings(server, fake_slack, ADMIN, settings_values(status="PAID"))
    assert bad.json() == {
        "response_action": "errors",
        "errors": {"settings_status_block": "Choose one of the listed statuses."},
    }
    assert db_rows(serve_env, "SELECT notification_channel FROM workspaces") == [(None,)]
    ok = submit_settings(server, fake_slack, ADMIN, settings_values(status="AUTHORISED"))
    assert ok.status_code == 200 and not ok.content
    assert db_rows(
        serve_env, "SELECT warn_new_supplier, notification_channel, bill_status FROM workspaces"
    ) == [(0, "C0999", "AUTHORISED")]
    assert (
        "Settings saved"
        in fake_slack.wait_for(lambda f: f.calls_to("chat.postMessage"))[0].args["text"]
    )


def json_view(call) -> dict:
    import json

    view = call.args["view"]
    return json.loads(view) if isinstance(view, str) else view
