"""The playground plays Slack faithfully: its Web API answers and refuses as Slack does, and the
requests it sends the app are signed and shaped as Slack's are (checked here against a
recording app that verifies every signature with slack_sdk)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from playground import slack_workspace as ws
from playground.slack_client import REQUIRED, Failed, SlackClient
from playground.slack_workspace import SlackWorkspace

BASE = "http://playground.test"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingApp:
    """Stands in for ledgerlink's /slack/events: checks the signature, keeps each request,
    and answers what the test queued."""

    def __init__(self, workspace: SlackWorkspace):
        self.verifier = SignatureVerifier(workspace.signing_secret)
        self.received: list[dict] = []
        self.answers: list[httpx.Response] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        assert self.verifier.is_valid_request(body, dict(request.headers)), "bad signature"
        if request.headers["content-type"] == "application/json":
            received = json.loads(body)
        else:
            form = dict(parse_qsl(body))
            received = json.loads(form["payload"]) if "payload" in form else form
        self.received.append(received)
        return self.answers.pop(0) if self.answers else httpx.Response(200)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def workspace(clock):
    return SlackWorkspace(base_url=BASE, monotonic=clock)


@pytest.fixture
def app(workspace):
    return RecordingApp(workspace)


@pytest.fixture
def slack(workspace, app):
    with httpx.Client(transport=httpx.MockTransport(app.handle)) as http:
        yield SlackClient(workspace, f"{BASE}/slack/events", http)


def call(workspace, method, **args):
    return workspace.web_api(method, workspace.bot_token, args)


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def post_actions(workspace, text: str, block_id: str, element: dict) -> dict:
    """Post to the channel a message whose one block is an actions block holding element."""
    blocks = [{"type": "actions", "block_id": block_id, "elements": [element]}]
    return call(workspace, "chat.postMessage", channel=ws.CHANNEL, text=text, blocks=blocks)


# -- the Web API --------------------------------------------------------------------------------


def test_every_method_needs_the_bot_token(workspace):
    """No token is not_authed, a wrong one invalid_auth, an unknown method unknown_method."""
    assert workspace.web_api("auth.test", None, {}) == {"ok": False, "error": "not_authed"}
    assert workspace.web_api("auth.test", "xoxb-nope", {})["error"] == "invalid_auth"
    assert call(workspace, "auth.test")["team_id"] == ws.TEAM_ID
    assert call(workspace, "admin.nuke")["error"] == "unknown_method"


def test_users_info_knows_the_admin_and_the_staff_member(workspace):
    """users.info says who is a workspace admin, as ledgerlink's admin check asks."""
    assert call(workspace, "users.info", user=ws.ADMIN)["user"]["is_admin"] is True
    assert call(workspace, "users.info", user=ws.STAFF)["user"]["is_admin"] is False
    assert call(workspace, "users.info", user="U404")["error"] == "user_not_found"


def test_messages_are_checked_like_slack_checks_them(workspace):
    """A message needs text or blocks, valid Block Kit and a known channel; a user ID posts
    to the DM with them."""
    assert call(workspace, "chat.postMessage", channel=ws.CHANNEL)["error"] == "no_text"
    bad = call(workspace, "chat.postMessage", channel=ws.CHANNEL, blocks=[{"type": "section"}])
    assert bad["error"] == "invalid_blocks" and bad["errors"]
    too_long = {"type": "header", "text": {"type": "plain_text", "text": "x" * 200}}
    assert call(workspace, "chat.postMessage", channel=ws.CHANNEL, blocks=[too_long])["error"] == (
        "invalid_blocks"
    )
    assert call(workspace, "chat.postMessage", channel="C404", text="x")["error"] == (
        "channel_not_found"
    )
    posted = call(workspace, "chat.postMessage", channel=ws.STAFF, text="hi")
    assert posted["ok"] and posted["channel"] == workspace.dm_channel(ws.STAFF)


def test_blocks_get_ids_and_updates_replace_messages(workspace):
    """Slack gives blocks without one a block_id; chat.update replaces the message's content."""
    posted = call(
        workspace, "chat.postMessage", channel=ws.CHANNEL, text="a", blocks=[section("a")]
    )
    assert posted["message"]["blocks"][0]["block_id"]
    call(
        workspace,
        "chat.update",
        channel=ws.CHANNEL,
        ts=posted["ts"],
        text="b",
        blocks=[section("b")],
    )
    [message] = workspace.visible_messages(ws.ADMIN, ws.CHANNEL)
    assert message.text == "b" and message.blocks[0]["text"]["text"] == "b"
    assert call(workspace, "chat.update", channel=ws.CHANNEL, ts="1.2", text="c")["error"] == (
        "message_not_found"
    )


def test_ephemeral_messages_show_only_to_their_user(workspace):
    """chat.postEphemeral is seen by its user alone."""
    call(workspace, "chat.postEphemeral", channel=ws.CHANNEL, user=ws.STAFF, text="psst")
    assert [m.text for m in workspace.visible_messages(ws.STAFF, ws.CHANNEL)] == ["psst"]
    assert workspace.visible_messages(ws.ADMIN, ws.CHANNEL) == []


def test_views_open_needs_a_fresh_trigger_used_once(workspace, clock):
    """A trigger id works once and only within three seconds of the user's action."""
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": [section("x")],
    }
    trigger = workspace.new_trigger(ws.ADMIN)
    assert call(workspace, "views.open", trigger_id=trigger, view=modal)["ok"]
    assert call(workspace, "views.open", trigger_id=trigger, view=modal)["error"] == (
        "invalid_trigger_id"
    )
    late = workspace.new_trigger(ws.ADMIN)
    clock.now += 3.5
    assert call(workspace, "views.open", trigger_id=late, view=modal)["error"] == (
        "expired_trigger_id"
    )


def test_views_push_update_and_publish(workspace):
    """Modals stack up to three; views.update honours the hash; views.publish sets the Home tab."""
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": [section("x")],
    }
    opened = call(workspace, "views.open", trigger_id=workspace.new_trigger(ws.ADMIN), view=modal)
    for _ in range(2):
        assert call(
            workspace, "views.push", trigger_id=workspace.new_trigger(ws.ADMIN), view=modal
        )["ok"]
    assert (
        call(workspace, "views.push", trigger_id=workspace.new_trigger(ws.ADMIN), view=modal)[
            "error"
        ]
        == "push_limit_reached"
    )
    view = opened["view"]
    assert call(workspace, "views.update", view_id=view["id"], hash="stale", view=modal)[
        "error"
    ] == ("hash_conflict")
    assert call(workspace, "views.update", view_id=view["id"], hash=view["hash"], view=modal)["ok"]
    home = {"type": "home", "blocks": [section("Home")]}
    assert call(workspace, "views.publish", user_id=ws.STAFF, view=home)["ok"]
    assert (
        workspace.views[workspace.homes[ws.STAFF]].definition["blocks"][0]["text"]["text"] == "Home"
    )


def test_response_urls_follow_slacks_rules(workspace, clock):
    """A response URL posts ephemerally to its user, publicly with in_channel, replaces the
    message it came from, works five times and expires after thirty minutes."""
    posted = call(workspace, "chat.postMessage", channel=ws.CHANNEL, text="prompt")
    url = workspace.new_response_url(ws.STAFF, ws.CHANNEL, posted["ts"])
    key = url.rsplit("/", 1)[1]
    assert workspace.response_url_post(key, {"text": "only you"}) == (200, "ok")
    assert [m.text for m in workspace.visible_messages(ws.ADMIN, ws.CHANNEL)] == ["prompt"]
    workspace.response_url_post(key, {"text": "everyone", "response_type": "in_channel"})
    workspace.response_url_post(key, {"text": "answered", "replace_original": True})
    assert [m.text for m in workspace.visible_messages(ws.ADMIN, ws.CHANNEL)] == [
        "answered",
        "everyone",
    ]
    workspace.response_url_post(key, {"text": "4"})
    workspace.response_url_post(key, {"text": "5"})
    assert workspace.response_url_post(key, {"text": "6"}) == (404, "used_url")
    other = workspace.new_response_url(ws.STAFF, ws.CHANNEL, None).rsplit("/", 1)[1]
    clock.now += 31 * 60
    assert workspace.response_url_post(other, {"text": "late"}) == (404, "expired_url")


def test_a_command_response_url_replaces_its_own_last_reply(workspace):
    """For a slash command, replace_original replaces the last reply sent through the URL
    (how "Refreshing…" becomes the outcome)."""
    key = workspace.new_response_url(ws.ADMIN, ws.CHANNEL, None).rsplit("/", 1)[1]
    workspace.response_url_post(key, {"text": "Refreshing…"})
    workspace.response_url_post(key, {"text": "Refreshed", "replace_original": "true"})
    assert [m.text for m in workspace.visible_messages(ws.ADMIN, ws.CHANNEL)] == ["Refreshed"]


# -- what the app receives ----------------------------------------------------------------------


def test_a_slash_command_is_a_signed_form_and_its_answer_is_shown(slack, app, workspace):
    """The command arrives form-encoded with Slack's fields, a response URL and a trigger id;
    a body in the answer is shown to the user only."""
    app.answers.append(httpx.Response(200, json={"text": "Usage: /integrations help"}))
    slack.type_text(ws.STAFF, ws.CHANNEL, "/integrations  refresh full ")
    [command] = app.received
    assert command["command"] == "/integrations" and command["text"] == "refresh full"
    assert (command["team_id"], command["user_id"], command["channel_id"]) == (
        ws.TEAM_ID,
        ws.STAFF,
        ws.CHANNEL,
    )
    assert command["response_url"].startswith(f"{BASE}/playground/slack/response/")
    assert command["trigger_id"] in workspace.triggers
    shown = workspace.visible_messages(ws.STAFF, ws.CHANNEL)
    assert [m.text for m in shown] == ["/integrations  refresh full", "Usage: /integrations help"]
    assert workspace.visible_messages(ws.ADMIN, ws.CHANNEL) == []


def test_typed_text_is_escaped_and_mentions_resolved_as_slack_does(slack, app, workspace):
    """Like a command with should_escape, typed &, < and > arrive escaped, and @name and
    #channel arrive as mentions the grammar understands."""
    slack.type_text(ws.ADMIN, ws.CHANNEL, "/integrations admins add @sam <b> & #accounts")
    assert app.received[-1]["text"] == (
        f"admins add <@{ws.STAFF}|sam> &lt;b&gt; &amp; <#{ws.CHANNEL}|accounts>"
    )


def test_an_unanswered_command_is_reported_like_slack_does(workspace):
    """When the app does not answer in time, the user sees Slack's operation_timeout."""

    def slow(request):
        raise httpx.ReadTimeout("no answer", request=request)

    with httpx.Client(transport=httpx.MockTransport(slow)) as http:
        SlackClient(workspace, f"{BASE}/slack/events", http).type_text(
            ws.ADMIN, ws.CHANNEL, "/integrations status"
        )
    assert (
        workspace.notices[-1]["text"] == '/integrations failed with the error "operation_timeout"'
    )


def test_a_button_click_carries_the_stored_element_and_a_response_url(slack, app, workspace):
    """A click sends block_actions built from the stored message: container, channel, message,
    response URL, trigger id and the button as the app defined it."""
    button = {
        "type": "button",
        "action_id": "item_use_supplier",
        "value": "4|s1",
        "style": "primary",
        "text": {"type": "plain_text", "text": "Use Supplier 1"},
    }
    posted = post_actions(workspace, "prompt", "prompt_main", button)
    slack.act(
        ws.STAFF, {"channel": ws.CHANNEL, "ts": posted["ts"]}, "prompt_main", "item_use_supplier"
    )
    [payload] = app.received
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == ws.STAFF and payload["team"]["id"] == ws.TEAM_ID
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": ws.CHANNEL,
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == posted["ts"] and payload["channel"]["name"] == "accounts"
    assert payload["response_url"] and payload["trigger_id"]
    [action] = payload["actions"]
    assert {k: action[k] for k in ("type", "action_id", "block_id", "value", "style")} == {
        "type": "button",
        "action_id": "item_use_supplier",
        "block_id": "prompt_main",
        "value": "4|s1",
        "style": "primary",
    }


def test_choosing_in_a_select_sends_the_option_the_app_offered(slack, app, workspace):
    """A static select sends the option object as defined; an unknown value is refused."""
    option = {"text": {"type": "plain_text", "text": "Harbour Lane"}, "value": "g1|0"}
    select = {"type": "static_select", "action_id": "connection_choose_tenant", "options": [option]}
    posted = post_actions(workspace, "choose", "b", select)
    where = {"channel": ws.CHANNEL, "ts": posted["ts"]}
    slack.act(ws.ADMIN, where, "b", "connection_choose_tenant", "g1|0")
    assert app.received[-1]["actions"][0]["selected_option"] == option
    assert (
        app.received[-1]["state"]["values"]["b"]["connection_choose_tenant"]["selected_option"]
        == option
    )
    with pytest.raises(Failed, match="not offered"):
        slack.act(ws.ADMIN, where, "b", "connection_choose_tenant", "forged|9")


def test_options_loads_send_block_suggestion_and_remember_the_offer(slack, app, workspace):
    """Typing in an external select sends block_suggestion; only an offered option can then be
    chosen, and it is sent as offered."""
    select = {
        "type": "external_select",
        "action_id": "item_search_suppliers",
        "min_query_length": 1,
        "placeholder": {"type": "plain_text", "text": "Search"},
    }
    posted = post_actions(workspace, "prompt", "prompt_pick_4", select)
    offered = {"text": {"type": "plain_text", "text": "Rapid Couriers"}, "value": "4|s9"}
    app.answers.append(httpx.Response(200, json={"options": [offered]}))
    where = {"channel": ws.CHANNEL, "ts": posted["ts"]}
    answer = slack.suggest(ws.ADMIN, where, "prompt_pick_4", "item_search_suppliers", "rap")
    suggestion = app.received[-1]
    assert suggestion["type"] == "block_suggestion" and suggestion["value"] == "rap"
    assert suggestion["block_id"] == "prompt_pick_4" and "response_url" not in suggestion
    assert answer["options"] == [offered]
    slack.act(ws.ADMIN, where, "prompt_pick_4", "item_search_suppliers", "4|s9")
    assert app.received[-1]["actions"][0]["selected_option"] == offered


def form_view(workspace):
    view = {
        "type": "modal",
        "callback_id": "item_view",
        "private_metadata": "C1",
        "title": {"type": "plain_text", "text": "Submit a receipt"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "blocks": [
            {
                "type": "input",
                "block_id": "supplier",
                "label": {"type": "plain_text", "text": "S"},
                "element": {"type": "plain_text_input", "action_id": "s"},
            },
            {
                "type": "input",
                "block_id": "date",
                "label": {"type": "plain_text", "text": "D"},
                "element": {"type": "datepicker", "action_id": "d"},
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "N"},
                "element": {"type": "plain_text_input", "action_id": "n"},
            },
            {
                "type": "input",
                "block_id": "acct",
                "optional": True,
                "label": {"type": "plain_text", "text": "A"},
                "element": {
                    "type": "static_select",
                    "action_id": "a",
                    "options": [
                        {"text": {"type": "plain_text", "text": "429 General"}, "value": "429"}
                    ],
                },
            },
        ],
    }
    return call(workspace, "views.open", trigger_id=workspace.new_trigger(ws.ADMIN), view=view)[
        "view"
    ]


def test_required_fields_are_checked_before_anything_is_sent(slack, app, workspace):
    """Slack itself refuses to submit a modal with an empty required field."""
    view = form_view(workspace)
    errors = slack.submit(
        ws.ADMIN, view["id"], {"supplier": {"s": ""}, "date": {"d": "2026-11-26"}}
    )
    assert errors == {"supplier": REQUIRED} and app.received == []


def test_a_submission_carries_typed_state_and_its_answer_is_applied(slack, app, workspace):
    """view_submission sends each input's value in Slack's typed shapes; an errors answer stays
    on the modal, and an empty answer closes it."""
    view = form_view(workspace)
    app.answers.append(
        httpx.Response(200, json={"response_action": "errors", "errors": {"date": "Too old"}})
    )
    values = {"supplier": {"s": "Rapid"}, "date": {"d": "2026-11-26"}, "acct": {"a": "429"}}
    assert slack.submit(ws.ADMIN, view["id"], values) == {"date": "Too old"}
    submitted = app.received[-1]
    assert (
        submitted["type"] == "view_submission" and submitted["view"]["callback_id"] == "item_view"
    )
    assert submitted["view"]["private_metadata"] == "C1"
    assert submitted["view"]["state"]["values"] == {
        "supplier": {"s": {"type": "plain_text_input", "value": "Rapid"}},
        "date": {"d": {"type": "datepicker", "selected_date": "2026-11-26"}},
        "note": {"n": {"type": "plain_text_input", "value": None}},
        "acct": {
            "a": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "429 General"},
                    "value": "429",
                },
            }
        },
    }
    assert workspace.top_modal(ws.ADMIN).errors == {"date": "Too old"}
    assert slack.submit(ws.ADMIN, view["id"], values) == {}
    assert workspace.top_modal(ws.ADMIN) is None


def test_opening_home_sends_app_home_opened(slack, app):
    """Opening the Home tab sends Slack's event_callback for app_home_opened, signed, as JSON."""
    slack.open_home(ws.STAFF)
    [callback] = app.received
    assert callback["type"] == "event_callback" and callback["team_id"] == ws.TEAM_ID
    assert callback["event"]["type"] == "app_home_opened"
    assert (callback["event"]["user"], callback["event"]["tab"]) == (ws.STAFF, "home")
    assert callback["authorizations"][0]["user_id"] == ws.BOT_USER_ID
