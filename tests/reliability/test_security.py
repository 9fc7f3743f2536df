"""Security checks against the running stack: signatures, workspace isolation, the admin check
on every acting button and form, escaping, the body limit, tokens at rest, and no secret in
the logs.

This module sorts last in tests/reliability on purpose: its log and database scans run after
every other test of the session has driven the stack (and the e2e tests their own servers).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import pytest

from handlers import ids
from tests.conftest import ADMIN, SIGNING_SECRET, STAFF
from tests.fakes.slack import mrkdwn_of
from tests.fakes.slack_requests import signed_headers, slash_command
from tests.providers import fake_quickbooks, fake_xero
from tests.reliability.stack import OTHER_TEAM, OUTSIDER, blocks_of, guarded, wait_until

pytestmark = pytest.mark.e2e

# Every action, view and options ID in handlers/ids.py, by who may use it.
ADMIN_ONLY_ACTIONS = {
    ids.RECONNECT,
    ids.CONNECT_PROVIDER,
    ids.SWITCH_PROVIDER,
    ids.CHOOSE_TENANT,
    ids.CONFIRM_TENANT_SWITCH,
    ids.CANCEL_TENANT_SWITCH,
    ids.DISCONNECT,
}
ADMIN_ONLY_VIEWS = {ids.SETTINGS_VIEW}
# The item's submitter or an admin (handlers.guards); checked below and in tests/e2e.
SUBMITTER_OR_ADMIN_ACTIONS = {ids.PUBLISH_ANYWAY, ids.RETRY_ITEM, ids.EDIT_ITEM, ids.DISCARD_ITEM}
OPEN_TO_EVERYONE = {
    # Anyone in the channel answers supplier prompts: that is what the prompt is for.
    ids.CREATE_SUPPLIER: "answers a prompt",
    ids.USE_SUPPLIER: "answers a prompt",
    ids.MORE_SUPPLIERS: "answers a prompt",
    ids.SEARCH_SUPPLIERS: "answers a prompt",
    ids.OPEN_PROMPT: "shows a grouped item's prompt, which anyone may answer",
    ids.OPEN_SETTINGS: "read-only for non-admins (checked below)",
    ids.CONNECT_LINK: "a link button: nothing acts",
    ids.VIEW_BILL: "a link button: nothing acts",
    ids.SUBMIT_SHORTCUT: "anyone submits items",
    ids.ITEM_VIEW: "anyone submits items; saving an edit is checked like Edit",
    ids.ITEM_CATEGORY: "a select inside the item form",
}
NOT_INTERACTIONS = {ids.COMMAND}  # the slash command: checked per subcommand below


def test_every_id_is_classified():
    """Each constant in handlers/ids.py is an admin-only action or view, an open one (with
    the reason), or a block / input ID: a new button cannot skip this suite's admin check."""
    constants = {v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)}
    inputs = {
        value
        for name, value in vars(ids).items()
        if name.isupper()
        and isinstance(value, str)
        and (name.endswith("_BLOCK") or name.startswith(("SETTINGS_", "ITEM_")))
        and value not in OPEN_TO_EVERYONE
        and value not in ADMIN_ONLY_VIEWS
    }
    classified = [
        ADMIN_ONLY_ACTIONS,
        ADMIN_ONLY_VIEWS,
        SUBMITTER_OR_ADMIN_ACTIONS,
        set(OPEN_TO_EVERYONE),
        NOT_INTERACTIONS,
    ]
    assert constants - inputs == set().union(*classified)
    assert sum(len(group) for group in classified) == len(set().union(*classified))


# -- signatures --------------------------------------------------------------------------------


def _status_command(stack) -> str:
    return slash_command(
        "status", user_id=ADMIN, team_id="T0001", response_url=stack.slack.response_url("sig")
    )


@pytest.mark.parametrize("how", ["missing", "wrong secret", "stale", "body altered"])
def test_bad_signatures_are_refused(stack, how):
    """A request without a signature, signed with another secret, signed 10 minutes ago, or
    altered after signing gets 401 and is never acted on."""
    body = _status_command(stack)
    if how == "missing":
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    elif how == "wrong secret":
        headers = signed_headers("not-the-secret-1234", body)
    elif how == "stale":
        headers = signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 600)
    else:
        headers = signed_headers(SIGNING_SECRET, body)
        body = body.replace("status", "disconnect")
    before = len(stack.slack.responses)
    response = stack.http.post(f"{stack.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    # A good command after it: once its reply is in, the refused one had its chance to act.
    key = stack.command("help", wait=False)
    stack.reply(key)
    assert [r.method for r in stack.slack.responses[before:]] == [key]


# -- isolation ---------------------------------------------------------------------------------


def test_api_and_commands_only_see_their_own_workspace(stack):
    """Each workspace's API token, status, App Home and refresh see only its own connection
    and items; the other's items answer 404."""
    mine = stack.post_item(supplier="Isolation One").json()
    theirs = stack.post_item(team=OTHER_TEAM, supplier="Isolation Two").json()
    for item, token_team in ((mine, OTHER_TEAM), (theirs, "T0001")):
        response = stack.http.get(
            f"{stack.url}/api/items/{item['id']}",
            headers={"Authorization": f"Bearer {stack.api_token(token_team)}"},
        )
        assert response.status_code == 404 and "Isolation" not in response.text
    assert "QuickBooks" in stack.command("status", team=OTHER_TEAM)["text"]
    assert "Xero" in stack.command("status")["text"]
    [(their_connection,)] = stack.rows(
        "SELECT id FROM connections WHERE team_id = ? AND status = 'active'", (OTHER_TEAM,)
    )
    runs_before = stack.rows(
        "SELECT count(*) FROM sync_runs WHERE connection_id = ?", (their_connection,)
    )
    reply_key = stack.command("refresh", wait=False)
    stack.slack.wait_for(
        lambda f: [r for r in f.responses if r.method == reply_key and "Refreshed" in str(r.args)],
        timeout=20,
    )
    assert (
        stack.rows("SELECT count(*) FROM sync_runs WHERE connection_id = ?", (their_connection,))
        == runs_before
    )


def _submit_settings(stack, warn_options: list[dict], **sender):
    """Submit the settings form (DRAFT bills, these new-supplier warning options) as sender."""
    values = {
        ids.SETTINGS_WARN_BLOCK: {ids.SETTINGS_WARN: {"selected_options": warn_options}},
        ids.SETTINGS_STATUS_BLOCK: {ids.SETTINGS_STATUS: {"selected_option": {"value": "DRAFT"}}},
    }
    response, _ = stack.interact(
        {
            "type": "view_submission",
            "view": {
                "type": "modal",
                "callback_id": ids.SETTINGS_VIEW,
                "state": {"values": values},
            },
        },
        **sender,
    )
    return response


def test_settings_saved_from_one_workspace_touch_only_it(stack):
    """An admin saving settings in one workspace changes that workspace's settings only."""
    before = stack.rows("SELECT * FROM workspaces WHERE team_id = 'T0001'")
    response = _submit_settings(stack, [{"value": "on"}], team=OTHER_TEAM)
    assert response.status_code == 200
    assert stack.rows("SELECT * FROM workspaces WHERE team_id = 'T0001'") == before


# -- the admin check ---------------------------------------------------------------------------


def _value_for(stack, action_id: str) -> dict:
    [(connection_id,)] = stack.rows(
        "SELECT id FROM connections WHERE team_id = 'T0001' AND status = 'active'"
    )
    if action_id == ids.CHOOSE_TENANT:
        return {"selected": "grant|0"}
    if action_id in (ids.RECONNECT, ids.DISCONNECT):
        return {"value": str(connection_id)}
    if action_id in (ids.CONNECT_PROVIDER, ids.SWITCH_PROVIDER):
        return {"value": "quickbooks"}
    return {"value": "grant"}


@pytest.mark.parametrize("action_id", sorted(ADMIN_ONLY_ACTIONS))
def test_admin_buttons_refuse_non_admins(stack, action_id):
    """Every admin-only button, clicked by a staff member, is refused and changes nothing."""
    before = guarded(stack)
    opened = len(stack.slack.calls_to("views.open"))
    response, key = stack.click(action_id, user=STAFF, **_value_for(stack, action_id))
    assert response.status_code == 200
    assert "only ledgerlink admins" in stack.reply(key)["text"]
    assert guarded(stack) == before
    assert len(stack.slack.calls_to("views.open")) == opened


def test_settings_form_refuses_non_admins(stack):
    """The settings form, submitted by a staff member (read-only view or forged), is refused."""
    before = guarded(stack)
    response = _submit_settings(stack, [], user=STAFF)
    assert response.json()["response_action"] == "errors"
    assert "Only ledgerlink admins" in json.dumps(response.json())
    assert guarded(stack) == before


def test_settings_open_read_only_for_non_admins(stack):
    """The settings button opens a view without a Save button for a staff member."""
    stack.click(ids.OPEN_SETTINGS, user=STAFF)
    call = stack.slack.wait_for(lambda f: f.calls_to("views.open"))[-1]
    view = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert "submit" not in view


@pytest.mark.parametrize(
    "text",
    [
        "connect xero",
        "reconnect",
        "disconnect",
        "warn-new-supplier off",
        "admins add <@UHACKER1|hacker>",
        f"admins remove <@{ADMIN}|alex>",
        "refresh full",
    ],
)
def test_admin_subcommands_refuse_non_admins(stack, text):
    """Each admin-only subcommand run by a staff member is refused and changes nothing."""
    before = guarded(stack)
    reply = stack.command(text, user=STAFF)
    assert "only ledgerlink admins" in reply["text"] or "Only admins" in reply["text"], reply
    assert guarded(stack) == before


@pytest.mark.parametrize("action_id", sorted(SUBMITTER_OR_ADMIN_ACTIONS))
def test_item_actions_are_for_the_submitter_or_an_admin(stack, action_id):
    """Edit, Discard, Retry and Publish anyway by someone who neither submitted the item nor
    is an admin are refused privately, naming who can; nothing changes."""
    item = stack.post_item(supplier=f"Guarded {action_id}", submitted_by=STAFF).json()
    before = guarded(stack)
    opened = len(stack.slack.calls_to("views.open"))
    _, key = stack.click(action_id, str(item["id"]), user=OUTSIDER)
    reply = stack.reply(key)
    assert f"Only <@{STAFF}> who submitted it, or a ledgerlink admin, can" in reply["text"]
    assert reply.get("response_type") == "ephemeral"
    assert guarded(stack) == before
    assert len(stack.slack.calls_to("views.open")) == opened


def test_discard_is_for_the_submitter_or_an_admin(stack):
    """Discard by someone else is refused; by the submitter it discards."""
    item = stack.post_item(supplier="Discard Guard Ltd", submitted_by=STAFF).json()
    _, key = stack.click(ids.DISCARD_ITEM, str(item["id"]), user=OUTSIDER)
    assert "who submitted it, or a ledgerlink admin" in stack.reply(key)["text"]
    assert stack.item(item["id"])["status"] == "needs_supplier"
    stack.click(ids.DISCARD_ITEM, str(item["id"]), user=STAFF)
    stack.wait_item(item["id"], "discarded")


# -- escaping and limits -----------------------------------------------------------------------

HOSTILE = "<!channel> <@U0BOSS|boss> &amp; <https://evil.example|click> *x*"


def test_user_text_is_escaped_in_slack(stack):
    """A hostile supplier name, and hostile words in a command, reach Slack escaped: no
    mention, channel ping, link, bold or bare ampersand is forged."""
    item = stack.post_item(supplier=HOSTILE).json()
    prompt = stack.prompt(item["id"])
    shown = " ".join([prompt["text"], *mrkdwn_of(blocks_of(prompt))])
    for raw in ("<!channel>", "<@U0BOSS", "<https://evil", "*x*"):
        assert raw not in shown
    assert "&lt;!channel&gt;" in prompt["text"] and "&amp;" in prompt["text"]
    assert not re.search(r"&(?!amp;|lt;|gt;)", shown)  # no bare ampersand
    for text in (HOSTILE, f"admins add {HOSTILE}", f"connect {HOSTILE}"):
        reply = stack.command(text)["text"]
        assert "<!channel>" not in reply and "<https://evil" not in reply, reply


@pytest.mark.parametrize("path", ["/slack/events", "/api/items"])
def test_bodies_over_one_mebibyte_get_413(stack, path):
    """Bodies over 1 MiB are refused with 413, declared or chunked, and nothing is stored."""
    count = stack.rows("SELECT count(*) FROM items")
    headers = {"Authorization": f"Bearer {stack.api_token()}"}
    big = b'{"supplier": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert stack.http.post(f"{stack.url}{path}", content=big, headers=headers).status_code == 413

    def chunks():
        yield big[: len(big) // 2]
        yield big[len(big) // 2 :]

    assert (
        stack.http.post(f"{stack.url}{path}", content=chunks(), headers=headers).status_code == 413
    )
    assert stack.rows("SELECT count(*) FROM items") == count


# -- secrets -----------------------------------------------------------------------------------


def secrets_of(stack) -> dict[str, str]:
    """Every secret the stack knows of, by what it is."""
    found = {
        "bot token": stack.slack.bot_token,
        "signing secret": SIGNING_SECRET,
        "Xero client secret": fake_xero.CLIENT_SECRET,
        "QuickBooks client secret": fake_quickbooks.CLIENT_SECRET,
        "token key": stack.env["LEDGERLINK_SECRET_KEY"],
    }
    for n, token in enumerate(stack.xero.issued_tokens + stack.quickbooks.issued_tokens):
        found[f"provider token {n}"] = token
    for team, token in stack.api_tokens.items():
        found[f"API token of {team}"] = token
    return found


def test_tokens_are_encrypted_at_rest(stack):
    """No provider token, API token or other secret appears in the database file, its WAL or
    its shared memory; API tokens are stored as SHA-256 hashes."""
    assert stack.xero.issued_tokens and stack.quickbooks.issued_tokens and stack.api_tokens
    files = sorted(Path(stack.db_path).parent.glob(Path(stack.db_path).name + "*"))
    assert any(f.name.endswith("-wal") for f in files)
    data = b"".join(f.read_bytes() for f in files if not f.name.endswith(".key"))
    leaked = [name for name, value in secrets_of(stack).items() if value.encode() in data]
    assert leaked == []
    for team, token in stack.api_tokens.items():
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert stack.rows("SELECT team_id FROM api_tokens WHERE token_hash = ?", (digest,)) == [
            (team,)
        ]
    for access, refresh in stack.rows("SELECT access_token, refresh_token FROM connections"):
        assert access.startswith("gAAAA") and refresh.startswith("gAAAA")  # Fernet tokens


def test_no_secret_in_any_server_log(stack, tmp_path_factory):
    """Every `ledgerlink serve` log of this session (this stack's, restarts included, and
    every other e2e server's) holds no token, secret or key the stack knows of."""
    logs = list(tmp_path_factory.getbasetemp().rglob("serve*.log"))
    assert any(stack.workdir in log.parents for log in logs)
    text = "".join(log.read_text(errors="replace") for log in logs)
    assert "POST /api/items" in text and "/oauth/" in text
    leaked = [name for name, value in secrets_of(stack).items() if value in text]
    assert leaked == []


# -- the whole session -------------------------------------------------------------------------


def test_no_item_was_lost_or_doubled_in_the_whole_session(stack):
    """After every fault, crash-free restart, hostile request and load of the session, each
    item is in a state that says what happens next, its history ends in that state, and each
    published item is exactly one bill at its provider (no bill without an item)."""
    wait_until(
        lambda: not stack.rows("SELECT id FROM items WHERE status IN ('received', 'publishing')"),
        "items in flight to settle",
        30,
    )
    statuses = {status for (status,) in stack.rows("SELECT DISTINCT status FROM items")}
    assert statuses <= {"needs_supplier", "held", "ready", "published", "failed", "discarded"}
    assert not stack.rows("SELECT id FROM items WHERE status = 'ready' AND next_attempt_at IS NULL")
    assert not stack.rows(
        "SELECT i.id FROM items i JOIN item_events e ON e.id = "
        "(SELECT max(id) FROM item_events WHERE item_id = i.id) WHERE e.status != i.status"
    )
    published = stack.rows(
        "SELECT c.provider, i.bill_id FROM items i JOIN connections c ON c.id = i.connection_id "
        "WHERE i.status = 'published'"
    )
    xero_bills = sorted(bill for provider, bill in published if provider == "xero")
    qbo_bills = sorted(bill for provider, bill in published if provider == "quickbooks")
    assert xero_bills == sorted(invoice["InvoiceID"] for invoice in stack.xero.invoices)
    assert qbo_bills == sorted(bill["Id"] for bill in stack.quickbooks.bills)
