"""Hostile input end to end: malformed and forged Slack payloads, unknown IDs, stale clicks,
and forged, replayed, expired or misdirected OAuth callbacks. Each is refused (400, or a
private message saying nothing changed) and the database shows nothing changed."""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

import httpx
import pytest

from handlers import ids
from tests.conftest import ADMIN, STAFF
from tests.e2e.conftest import PUBLIC_URL
from tests.reliability.stack import OTHER_TEAM, blocks_of, element, guarded, wait_until

pytestmark = pytest.mark.e2e

# Superscript two and fullwidth "12" pass str.isdigit(); the rest are plainly not IDs.
FORGED_IDS = ["\u00b2", "\uff11\uff12", "9" * 40, "-1", "", "1 OR 1=1", "<@U0BOSS>", " 1"]
ITEM_ACTIONS = (
    ids.CREATE_SUPPLIER,
    ids.USE_SUPPLIER,
    ids.PUBLISH_ANYWAY,
    ids.DISCARD_ITEM,
    ids.RETRY_ITEM,
    ids.EDIT_ITEM,
)


def waiting_item(stack, team: str | None = None) -> dict:
    """A new item waiting for its supplier (its prompt posted), for clicks to aim at."""
    item = stack.post_item(team=team, supplier=f"Target {secrets.token_hex(3)}").json()
    assert item["status"] == "needs_supplier"
    return item


def no_crash(stack, key: str) -> dict:
    """The private reply to an interaction, which must not be the generic failure."""
    reply = stack.reply(key)
    assert "Something went wrong" not in reply["text"], reply
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    return reply


def signed_raw(stack, body: str, content_type: str) -> httpx.Response:
    return stack.post_signed(body, content_type=content_type)


MALFORMED = {
    "payload not JSON": urlencode({"payload": "{not json"}),
    "payload a list": urlencode({"payload": "[1, 2]"}),
    "payload null": urlencode({"payload": "null"}),
    "view without a type": urlencode({"payload": json.dumps({"type": "view_submission"})}),
    "no user": urlencode(
        {"payload": json.dumps({"type": "block_actions", "team": {"id": "T0001"}})}
    ),
    "actions not a list": urlencode(
        {
            "payload": json.dumps(
                {
                    "type": "block_actions",
                    "team": {"id": "T0001"},
                    "user": {"id": STAFF},
                    "actions": "item_retry",
                }
            )
        }
    ),
    "view without state": urlencode(
        {
            "payload": json.dumps(
                {
                    "type": "view_submission",
                    "team": {"id": "T0001"},
                    "user": {"id": STAFF},
                    "view": {"type": "modal", "callback_id": ids.ITEM_VIEW},
                }
            )
        }
    ),
    "command without user": urlencode({"command": "/integrations", "team_id": "T0001"}),
    "empty body": "",
    "unknown type": urlencode({"payload": json.dumps({"type": "dialog_opened"})}),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_signed_bodies_get_400(stack, name):
    """A correctly signed body that is not a Slack request ledgerlink can read gets 400."""
    before = guarded(stack)
    response = signed_raw(stack, MALFORMED[name], "application/x-www-form-urlencoded")
    assert response.status_code == 400, (name, response.status_code, response.text)
    assert guarded(stack) == before


def test_malformed_json_event_gets_400(stack):
    """A JSON body that does not parse gets 400, not a server error."""
    assert signed_raw(stack, "{not json", "application/json").status_code == 400


def test_unknown_action_ids_are_refused_privately(stack):
    """A button ledgerlink does not know gets a private "nothing was changed"; an unknown
    form gets a modal saying so; an unknown options request an empty list."""
    before = guarded(stack)
    response, key = stack.click("item_delete_everything", "1")
    assert response.status_code == 200
    assert "isn't one ledgerlink knows" in no_crash(stack, key)["text"]
    form, _ = stack.interact(
        {
            "type": "view_submission",
            "view": {"type": "modal", "callback_id": "admin_backdoor", "state": {"values": {}}},
        }
    )
    assert form.status_code == 200 and form.json()["response_action"] == "update"
    options, _ = stack.interact(
        {"type": "block_suggestion", "action_id": "mystery", "block_id": "b", "value": "a"}
    )
    assert options.status_code == 200 and options.json() == {"options": []}
    assert guarded(stack) == before


@pytest.mark.parametrize("action_id", ITEM_ACTIONS)
def test_forged_item_values_change_nothing(stack, action_id):
    """Item buttons carrying non-numbers, odd digits, huge or negative numbers, or another
    workspace's item are refused privately; nothing changes."""
    theirs = waiting_item(stack, OTHER_TEAM)
    before = guarded(stack)
    for value in [*FORGED_IDS, str(theirs["id"]), f"{theirs['id']}|1"]:
        response, key = stack.click(action_id, value, user=ADMIN)
        assert response.status_code == 200, (value, response.text)
        assert "Nothing was changed" in no_crash(stack, key)["text"], value
    assert guarded(stack) == before
    assert stack.item(theirs["id"], team=OTHER_TEAM)["status"] == "needs_supplier"


@pytest.mark.parametrize("action_id", [ids.RECONNECT, ids.DISCONNECT])
def test_forged_connection_values_change_nothing(stack, action_id):
    """An admin's Reconnect or Disconnect naming another workspace's connection, or no
    connection at all, is refused; both connections stay as they were."""
    [(theirs,)] = stack.rows(
        "SELECT id FROM connections WHERE team_id = ? AND status = 'active'", (OTHER_TEAM,)
    )
    before = guarded(stack)
    for value in [*FORGED_IDS, str(theirs)]:
        response, key = stack.click(action_id, value)
        assert response.status_code == 200
        assert "no longer exists" in no_crash(stack, key)["text"], value
    assert guarded(stack) == before


def test_forged_organisation_choice_changes_nothing(stack):
    """Choosing an organisation with a made-up grant, or an index that isn't a number, is
    refused as expired; nothing is connected."""
    before = guarded(stack)
    for value in ["nope|0", "nope|\u00b2", f"{secrets.token_urlsafe(16)}|1", "|", "x"]:
        response, key = stack.click(ids.CHOOSE_TENANT, selected=value)
        assert response.status_code == 200
        no_crash(stack, key)
    assert guarded(stack) == before


def test_options_and_forms_for_another_workspace_show_nothing(stack):
    """The supplier search for another workspace's item offers nothing, and the edit form
    cannot be saved onto another workspace's item."""
    theirs = waiting_item(stack, OTHER_TEAM)
    before = guarded(stack)
    options, _ = stack.interact(
        {
            "type": "block_suggestion",
            "action_id": ids.SEARCH_SUPPLIERS,
            "block_id": f"prompt_pick_{theirs['id']}",
            "value": "a",
        }
    )
    assert options.json() == {"options": []}
    values = {
        ids.ITEM_SUPPLIER_BLOCK: {ids.ITEM_SUPPLIER: {"value": "Hijacked Ltd"}},
        ids.ITEM_DATE_BLOCK: {ids.ITEM_DATE: {"selected_date": "2026-11-20"}},
        ids.ITEM_TOTAL_BLOCK: {ids.ITEM_TOTAL: {"value": "1.00"}},
    }
    for metadata in (f"edit:{theirs['id']}", "edit:²", "edit:" + "9" * 40):
        form, _ = stack.interact(
            {
                "type": "view_submission",
                "view": {
                    "type": "modal",
                    "callback_id": ids.ITEM_VIEW,
                    "private_metadata": metadata,
                    "state": {"values": values},
                },
            }
        )
        assert form.json()["response_action"] == "errors", metadata
    assert guarded(stack) == before


def test_stale_clicks_on_answered_items_change_nothing(stack):
    """Clicks on a prompt that was already answered, or Retry / Publish anyway on an item
    that was published, say so privately and change nothing."""
    item = waiting_item(stack)
    prompt = stack.prompt(item["id"])
    create = element(blocks_of(prompt), ids.CREATE_SUPPLIER)
    stack.click(ids.CREATE_SUPPLIER, create["value"], user=STAFF)
    stack.wait_item(item["id"], "published")
    before = guarded(stack)
    for action_id in (ids.CREATE_SUPPLIER, ids.RETRY_ITEM, ids.PUBLISH_ANYWAY):
        _, key = stack.click(action_id, str(item["id"]))
        text = no_crash(stack, key)["text"]
        assert "Already resolved" in text or "already handled" in text, text
    assert guarded(stack) == before
    assert stack.item(item["id"])["status"] == "published"


# -- OAuth callbacks ---------------------------------------------------------------------------


def login_link(stack, team: str = OTHER_TEAM) -> str:
    """A fresh login link (a reconnect of `team`), as the admin's browser would follow it."""
    reply = stack.command("reconnect", team=team)
    return element(blocks_of(reply), ids.CONNECT_LINK)["url"]


def callback(stack, provider: str, **params) -> httpx.Response:
    return stack.http.get(f"{stack.url}/oauth/{provider}/callback", params=params)


def provider_redirect(stack, link: str) -> str:
    """Where the provider sends the browser back to (the callback URL, on the real server)."""
    at_provider = stack.http.get(link, follow_redirects=False)
    return at_provider.headers["Location"].replace(PUBLIC_URL, stack.url, 1)


def connections(stack) -> list[tuple]:
    return stack.rows("SELECT id, team_id, status, tenant_id, connected_at FROM connections")


def test_forged_state_is_refused(stack):
    """A callback with a state ledgerlink never issued is refused and stores nothing."""
    before = connections(stack)
    for state in ("", secrets.token_urlsafe(32), "' OR 1=1 --", "x" * 5000):
        page = callback(stack, "quickbooks", state=state, code="stolen", realmId="1")
        assert page.status_code == 400 and "nothing was connected" in page.text
    assert connections(stack) == before


def test_replayed_callback_is_refused(stack):
    """The same callback URL used twice: the second is refused and changes nothing."""
    url = provider_redirect(stack, login_link(stack))
    assert stack.http.get(url).status_code == 200
    after_first = connections(stack)
    replay = stack.http.get(url)
    assert replay.status_code == 400 and "already used" in replay.text
    assert connections(stack) == after_first


def test_expired_state_is_refused(stack):
    """A login link older than 10 minutes is refused and stores nothing."""
    url = provider_redirect(stack, login_link(stack))
    stack.write("UPDATE provider_oauth_states SET expires_at = '2000-01-01T00:00:00+00:00'")
    before = connections(stack)
    assert stack.http.get(url).status_code == 400
    assert connections(stack) == before


def test_state_for_one_provider_is_refused_at_the_other(stack):
    """A QuickBooks login's state sent to the Xero callback is refused there, and stays
    usable only where it was issued."""
    url = provider_redirect(stack, login_link(stack))
    before = connections(stack)
    misdirected = url.replace("/oauth/quickbooks/", "/oauth/xero/")
    assert stack.http.get(misdirected).status_code == 400
    assert connections(stack) == before
    assert stack.http.get(url).status_code == 200


def test_provider_error_text_is_escaped_in_the_page_and_in_slack(stack):
    """An error description from the provider is shown escaped, in the browser and in Slack."""
    link = login_link(stack)
    state = httpx.URL(link).params["state"]
    hostile = "<script>alert(1)</script> <!channel> &"
    page = callback(
        stack, "quickbooks", state=state, error="server_error", error_description=hostile
    )
    assert page.status_code == 400
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    told = stack.slack.wait_for(
        lambda f: [r for r in f.responses if "alert(1)" in r.args.get("text", "")]
    )
    assert "<!channel>" not in told[-1].args["text"]
    assert "&lt;script&gt;" in told[-1].args["text"]


def test_a_grant_cannot_be_chosen_from_another_workspace_or_by_another_user(stack):
    """With two organisations to choose from, the choice can be made only by the admin who
    logged in, in their workspace: forged choices leave nothing connected."""
    team = "T0003"
    second = {**stack.xero.connections[0], "id": "c2", "tenantId": "tenant-2"}
    stack.xero.connections.append({**second, "tenantName": "Second Org"})
    try:
        reply = stack.command("connect xero", team=team)
        link = element(blocks_of(reply), ids.CONNECT_LINK)["url"]
        assert stack.http.get(provider_redirect(stack, link)).status_code == 200
        choice = wait_until(
            lambda: [
                r.args
                for r in stack.slack.responses
                if "Choose the organisation" in r.args.get("text", "")
            ],
            "the organisation choice",
        )[-1]
        option = element(blocks_of(choice), ids.CHOOSE_TENANT)["options"][0]["value"]
        before = guarded(stack)
        for user, from_team in ((ADMIN, OTHER_TEAM), (STAFF, team), (ADMIN, "T0001")):
            response, key = stack.click(
                ids.CHOOSE_TENANT, selected=option, user=user, team=from_team
            )
            assert response.status_code == 200
            no_crash(stack, key)
        assert guarded(stack) == before
        assert not stack.rows("SELECT id FROM connections WHERE team_id = ?", (team,))
    finally:
        stack.xero.connections.pop()


def test_odd_item_ids_in_the_api_get_404(stack):
    """GET /api/items/{id} with a superscript digit, a huge, negative or non-numeric ID
    answers 404 like any unknown item, never a server error."""
    headers = {"Authorization": f"Bearer {stack.api_token()}"}
    for raw in ("%B2", "%C2%B2", "9" * 30, "-1", "1e3", "%EF%BC%91", "0x10"):
        response = stack.http.get(f"{stack.url}/api/items/{raw}", headers=headers)
        assert response.status_code == 404, (raw, response.status_code)
