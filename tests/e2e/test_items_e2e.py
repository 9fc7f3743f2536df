"""Items end to end: the HTTP API and Slack prompts in, bills out at the fake Xero (whose
request bodies are validated against Xero's OpenAPI spec by the fake itself)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import httpx
import pytest
from slack_sdk.models.blocks import Block

from tests.conftest import ADMIN, STAFF
from tests.e2e.chat import Chat, api_token, button, click_of, connect, db_rows
from tests.e2e.conftest import follow_login
from tests.fakes.databases import both_backends
from tests.fakes.process import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def workspace(serve, provider_env, fake_slack, xero, serve_env):
    """A workspace connected to the fake Xero, lists synced, and an API token."""
    xero.add_contacts(1, Name="Costa Coffee Ltd")
    xero.add_contacts(1, Name="Fine Foods Limited")
    server = serve(**provider_env)
    chat = Chat(server, fake_slack)
    connect(chat)
    wait_until(
        lambda: (
            db_rows(serve_env, "SELECT count(*) FROM list_records WHERE kind = 'supplier'")[0][0]
            >= 3
        ),
        "first sync",
    )
    token = api_token(serve_env, fake_slack.team_id)
    return chat, token


def post_item(chat, token: str, **fields) -> httpx.Response:
    body = {
        "supplier": "Fresh Produce Co",
        "date": "2026-11-20",
        "total": "42.10",
        "channel": "C0001",
        **fields,
    }
    return httpx.post(
        f"{chat.server.url}/api/items",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def get_item(chat, token: str, item_id: int) -> dict:
    return httpx.get(
        f"{chat.server.url}/api/items/{item_id}", headers={"Authorization": f"Bearer {token}"}
    ).json()


def item_status(chat, token, item_id, *statuses) -> dict:
    return wait_until(
        lambda: (lambda d: d if d["status"] in statuses else None)(get_item(chat, token, item_id)),
        f"item {item_id} in {statuses}",
    )


def prompt_for(fake_slack, item_id: int) -> dict:
    def find(fake):
        for call in fake.calls_to("chat.postMessage"):
            blocks = call.args.get("blocks")
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            if (
                blocks
                and f"Item #{item_id} " in json.dumps(blocks)
                and "is not a supplier" in call.args.get("text", "")
            ):
                return {**call.args, "blocks": blocks}
        return None

    return fake_slack.wait_for(find)


def invoices_for(xero, contact_name: str) -> list[dict]:
    return [
        i
        for i in xero.invoices
        if i["Contact"].get("Name") == contact_name
        or i["Contact"].get("ContactID")
        in {c["ContactID"] for c in xero.contacts if c["Name"] == contact_name}
    ]


@both_backends
def test_unknown_supplier_prompt_then_create(workspace, fake_slack, xero):
    """API submit → prompt with candidates → Create → Xero gets the contact and the bill."""
    chat, token = workspace
    response = post_item(chat, token, supplier="Fresh Produce Co", reference="INV-77")
    assert response.status_code == 201
    item = response.json()
    assert item["status"] == "needs_supplier"
    prompt = prompt_for(fake_slack, item["id"])
    assert prompt["text"].startswith(":exclamation: *Fresh Produce Co* is not a supplier in")
    for block in prompt["blocks"]:
        Block.parse(block).validate_json()
    create = button(prompt, "item_create_supplier")
    assert create["text"]["text"] == 'Create supplier "Fresh Produce Co"'
    chat.click(click_of(create), user=STAFF, wait=False)
    done = item_status(chat, token, item["id"], "published", "failed")
    assert done["status"] == "published", done
    assert any(c["Name"] == "Fresh Produce Co" for c in xero.contacts)
    [bill] = [i for i in xero.invoices if i.get("InvoiceNumber") == "INV-77"]
    assert bill["Type"] == "ACCPAY" and bill["Status"] == "DRAFT"
    assert done["bill_url"] and done["bill_id"] == bill["InvoiceID"]
    outcome = fake_slack.wait_for(
        lambda f: [
            c for c in f.calls_to("chat.update") if "bill published" in c.args.get("text", "")
        ]
    )
    assert f"<@{STAFF}> created supplier *Fresh Produce Co*" in outcome[-1].args["text"]


def test_exact_name_publishes_without_a_prompt(workspace, fake_slack, xero):
    """A supplier that exists (after normalisation) is used directly, with no prompt."""
    chat, token = workspace
    item = post_item(chat, token, supplier="the costa coffee", reference="E-1").json()
    assert item["status"] in ("ready", "publishing", "published")
    assert item_status(chat, token, item["id"], "published")["supplier_name"] == (
        "Costa Coffee Ltd"
    )


def test_use_existing_learns_a_rule(workspace, fake_slack, xero):
    """Choosing a close match publishes to it, and the same name never prompts again."""
    chat, token = workspace
    first = post_item(chat, token, supplier="Costa Cofee").json()
    prompt = prompt_for(fake_slack, first["id"])
    use = button(prompt, "item_use_supplier")
    assert use["text"]["text"] == "Use Costa Coffee Ltd"
    chat.click(click_of(use), wait=False)
    assert item_status(chat, token, first["id"], "published")["supplier_name"] == (
        "Costa Coffee Ltd"
    )
    second = post_item(chat, token, supplier="Costa Cofee", date="2026-11-21").json()
    assert second["status"] in ("ready", "publishing", "published")
    assert item_status(chat, token, second["id"], "published")["supplier_name"] == (
        "Costa Coffee Ltd"
    )
    assert len([c for c in xero.contacts if c["Name"].startswith("Costa")]) == 1


@both_backends
def test_two_concurrent_clicks_make_one_supplier_and_one_bill(workspace, fake_slack, xero):
    """The first answer wins; the second is told who answered, and nothing doubles."""
    chat, token = workspace
    item = post_item(chat, token, supplier="Zeta Widgets", reference="Z-1").json()
    create = button(prompt_for(fake_slack, item["id"]), "item_create_supplier")
    threads = [
        threading.Thread(
            target=chat.click, args=(click_of(create),), kwargs={"user": user, "wait": False}
        )
        for user in (ADMIN, STAFF)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    item_status(chat, token, item["id"], "published")
    told = fake_slack.wait_for(
        lambda f: [r for r in f.responses if "Already resolved by" in r.args.get("text", "")]
    )
    assert len(told) == 1
    assert len([c for c in xero.contacts if c["Name"] == "Zeta Widgets"]) == 1
    assert len([i for i in xero.invoices if i.get("InvoiceNumber") == "Z-1"]) == 1


def test_warning_off_creates_without_asking(workspace, fake_slack, xero):
    """With the new-supplier warning off, an unknown supplier is created at publish time."""
    chat, token = workspace
    chat.command("warn-new-supplier off")
    item = post_item(chat, token, supplier="Quiet Supplies", reference="Q-1").json()
    assert item["status"] != "needs_supplier"
    item_status(chat, token, item["id"], "published")
    assert any(c["Name"] == "Quiet Supplies" for c in xero.contacts)


def test_duplicates_are_held(workspace, fake_slack, xero):
    """The same supplier, date and total again is held with Publish anyway / Discard."""
    chat, token = workspace
    first = post_item(chat, token, supplier="Costa Coffee Ltd", reference="D-1").json()
    item_status(chat, token, first["id"], "published")
    second = post_item(chat, token, supplier="Costa Coffee Ltd", reference="D-2").json()
    assert second["status"] == "held"
    held = get_item(chat, token, second["id"])
    assert held["hold_reason"] == "duplicate" and held["duplicate_of"] == first["id"]
    message = fake_slack.wait_for(
        lambda f: [
            c
            for c in f.calls_to("chat.postMessage")
            if "Looks like a duplicate of item #" in c.args.get("text", "")
        ]
    )
    assert f"item #{first['id']}" in message[0].args["text"]
    blocks = message[0].args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    chat.click(click_of(button({"blocks": blocks}, "item_publish_anyway")), wait=False)
    item_status(chat, token, second["id"], "published")


def test_api_bad_input_and_auth(workspace, fake_slack, serve_env):
    """Bad fields get per-field 400s, bad tokens 401, another team's item 404, replays 200."""
    chat, token = workspace
    url = f"{chat.server.url}/api/items"
    assert httpx.post(url, json={}).status_code == 401
    assert httpx.post(url, json={}, headers={"Authorization": "Bearer llk_nope"}).status_code == 401
    bad = httpx.post(
        url,
        json={"supplier": "", "date": "soon", "total": -1},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"supplier", "date", "total"}
    broken = httpx.post(
        url,
        content=b"{not json",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and broken.json()["errors"]["body"] == "not valid JSON"
    assert (
        httpx.post(
            url, content=b"{" * (2 * 1024 * 1024), headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 413
    )
    first = post_item(chat, token, external_id="ext-1")
    again = post_item(chat, token, external_id="ext-1", total="999")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = api_token(serve_env, "T0002")
    assert (
        httpx.get(
            f"{url}/{first.json()['id']}", headers={"Authorization": f"Bearer {other}"}
        ).status_code
        == 404
    )


def test_items_of_another_workspace_cannot_be_acted_on(workspace, fake_slack, serve_env):
    """A click naming an item of another workspace changes nothing."""
    chat, token = workspace
    item = post_item(chat, token, supplier="Other Team Test").json()
    create = button(prompt_for(fake_slack, item["id"]), "item_create_supplier")
    fake_slack.tokens["xoxb-other"] = "T0002"
    reply = chat.click(click_of(create), team="T0002")
    assert "isn't in this workspace" in reply["text"]
    assert get_item(chat, token, item["id"])["status"] == "needs_supplier"


def xero_refusal(message: str) -> httpx.Response:
    """Xero's 400 for a bill it will not take, with message as the validation error."""
    return httpx.Response(
        400,
        json={
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [{"ValidationErrors": [{"Message": message}]}],
        },
    )


def publishing_error_blocks(fake_slack) -> list[dict]:
    """The blocks of the latest item message updated to say "Publishing error:" (waits)."""
    message = fake_slack.wait_for(
        lambda f: [
            c for c in f.calls_to("chat.update") if "Publishing error:" in c.args.get("text", "")
        ]
    )
    blocks = message[-1].args["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def test_validation_error_then_retry(workspace, fake_slack, xero):
    """A refusal from Xero keeps the item with the provider's words; Retry works once fixed."""
    chat, token = workspace
    chat.command("warn-new-supplier off")
    xero.queue(
        "/api.xro/2.0/Invoices",
        xero_refusal("Account code '999' is not a valid code for this document."),
    )
    item = post_item(
        chat, token, supplier="Costa Coffee Ltd", reference="V-1", date="2026-11-02"
    ).json()
    failed = item_status(chat, token, item["id"], "failed")
    assert "Account code '999' is not a valid code" in failed["error"]
    blocks = publishing_error_blocks(fake_slack)
    chat.click(click_of(button({"blocks": blocks}, "item_retry")), wait=False)
    assert item_status(chat, token, item["id"], "published")["bill_id"]


@both_backends
def test_expired_connection_holds_then_publishes_after_reconnect(
    workspace, fake_slack, xero, serve_env
):
    """Expired: items are held with a Reconnect button; after reconnect they publish."""
    chat, token = workspace
    db_rows(serve_env, "UPDATE connections SET status = 'expired'")
    item = post_item(
        chat, token, supplier="Costa Coffee Ltd", reference="H-1", date="2026-11-03"
    ).json()
    assert item["status"] == "held"
    assert get_item(chat, token, item["id"])["hold_reason"] == "expired"
    notice = fake_slack.wait_for(
        lambda f: [
            c
            for c in f.calls_to("chat.postMessage")
            if "Publishing error: the Xero connection expired" in c.args.get("text", "")
        ]
    )
    assert "An admin needs to reconnect" in notice[0].args["text"]
    reply = chat.command("reconnect")
    follow_login(chat.server, button(reply, "connection_open_provider_login")["url"])
    assert item_status(chat, token, item["id"], "published")["bill_id"]
    assert fake_slack.wait_for(
        lambda f: [
            c
            for c in f.calls_to("chat.postMessage")
            if "1 held item published" in c.args.get("text", "")
        ]
    )


def test_hostile_supplier_names_are_escaped(workspace, fake_slack):
    """A supplier called `<!channel>` is shown escaped in the prompt."""
    chat, token = workspace
    item = post_item(chat, token, supplier="<!channel> & <script>").json()
    prompt = prompt_for(fake_slack, item["id"])
    assert "<!channel>" not in prompt["text"] and "&lt;!channel&gt; &amp;" in prompt["text"]


def form_values(**fields) -> dict:
    values = {
        "item_supplier_block": {
            "item_supplier": {"type": "plain_text_input", "value": fields.get("supplier")}
        },
        "item_date_block": {
            "item_date": {"type": "datepicker", "selected_date": fields.get("date")}
        },
        "item_total_block": {
            "item_total": {"type": "plain_text_input", "value": fields.get("total")}
        },
    }
    return values


def submit_form(
    chat, fake_slack, values: dict, *, metadata: str = "C0001", user: str = STAFF
) -> httpx.Response:
    from tests.fakes.slack_requests import view_submission

    body = view_submission(fake_slack.team_id, user, "item_view", values, metadata)
    return chat.server.post_signed(body)


def save_edit(chat, fake_slack, item_id: int, user: str, **fields) -> None:
    """Save item `item_id`'s edit form as `user`, dated 2026-11-05 with a total of 42.10 unless
    `fields` say otherwise; Slack gets the empty 200 that closes the modal."""
    values = form_values(**{"date": "2026-11-05", "total": "42.10", **fields})
    saved = submit_form(chat, fake_slack, values, metadata=f"edit:{item_id}", user=user)
    assert saved.status_code == 200 and not saved.content


def opened_view(fake_slack) -> dict:
    """The one view Slack was asked to open (waits for it), decoded."""
    [opened] = fake_slack.wait_for(lambda f: f.calls_to("views.open"))
    view = opened.args["view"]
    return json.loads(view) if isinstance(view, str) else view


def test_form_submission_with_bad_fields_gets_field_errors(workspace, fake_slack, serve_env):
    """The Slack form shows each bad field's error on the form and stores nothing; a good one
    is stored and prompted in the channel it came from."""
    chat, _ = workspace
    bad = submit_form(chat, fake_slack, form_values(supplier="", date="2026-11-20", total="-4"))
    assert bad.json()["response_action"] == "errors"
    assert set(bad.json()["errors"]) == {"item_supplier_block", "item_total_block"}
    assert db_rows(serve_env, "SELECT count(*) FROM items") == [(0,)]
    good = submit_form(
        chat, fake_slack, form_values(supplier="Brand New Bakery", date="2026-11-20", total="9.99")
    )
    assert good.status_code == 200 and not good.content
    wait_until(
        lambda: (
            db_rows(serve_env, "SELECT status, submitted_by, channel_id FROM items")
            == [("needs_supplier", STAFF, "C0001")]
        ),
        "the form's item",
    )
    prompt_for(fake_slack, 1)


def test_submit_command_opens_the_form(workspace, fake_slack):
    """`/integrations submit` opens the item form with the synced accounts to choose from."""
    chat, _ = workspace
    from tests.fakes.slack_requests import slash_command

    body = slash_command(
        "submit",
        user_id=STAFF,
        team_id=fake_slack.team_id,
        response_url=fake_slack.response_url("sub"),
    )
    assert chat.server.post_signed(body).status_code == 200
    [call] = fake_slack.wait_for(lambda f: f.calls_to("views.open"))
    view = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "item_view" and view["private_metadata"] == "C0001"
    assert "Foobar" in json.dumps(view)  # the fake organisation's expense account


def test_supplier_search_options_are_scoped_and_bounded(workspace, fake_slack):
    """The search select answers with matching suppliers for the item's own workspace only."""
    from tests.fakes.slack_requests import interactive

    chat, token = workspace
    item = post_item(chat, token, supplier="Unheard Of Supplies").json()
    prompt_for(fake_slack, item["id"])

    def suggest(team: str, text: str) -> httpx.Response:
        payload = {
            "type": "block_suggestion",
            "team": {"id": team},
            "user": {"id": STAFF, "team_id": team},
            "api_app_id": "A0001",
            "action_id": "item_search_suppliers",
            "block_id": f"prompt_pick_{item['id']}",
            "value": text,
            "container": {"type": "message"},
        }
        return chat.server.post_signed(interactive(payload))

    options = suggest(fake_slack.team_id, "cost").json()["options"]
    assert options[0]["text"]["text"] == "Costa Coffee Ltd"
    assert all(o["value"].startswith(f"{item['id']}|") for o in options)
    assert len(options) <= 100
    assert suggest("T0002", "cost").json()["options"] == []


@both_backends
def test_unanswered_prompt_is_reminded_once(workspace, fake_slack, serve_env):
    """A prompt nobody answered for 24 hours is reminded once, in the thread and by DM."""
    chat, token = workspace
    item = post_item(chat, token, supplier="Forgotten Fabrics", submitted_by=STAFF).json()
    prompt_for(fake_slack, item["id"])

    def tick(at: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "bot", "tick", "--now", at],
            env={**serve_env, "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout

    def reminders():
        return [
            c
            for c in fake_slack.calls_to("chat.postMessage")
            if "is waiting for someone to choose" in c.args.get("text", "")
        ]

    tick("2099-01-01T00:00:00Z")
    found = fake_slack.wait_for(lambda f: len(reminders()) >= 2 and reminders())
    assert {c.args["channel"] for c in found} == {"C0001", f"D{STAFF[1:]}"}
    assert any(c.args.get("thread_ts") for c in found)
    # The tick posts before it exits, so once it has said it did nothing, nothing was sent.
    assert "prompt-reminders: 0 done" in tick("2099-01-02T00:00:00Z")
    assert len(reminders()) == 2


def test_edit_after_a_refusal_then_publish(workspace, fake_slack, xero):
    """Edit on a refused item opens the form with its values; the admin who opened it saves
    corrected fields and it publishes."""
    chat, token = workspace
    chat.command("warn-new-supplier off")
    xero.queue("/api.xro/2.0/Invoices", xero_refusal("Bad date."))
    item = post_item(
        chat, token, supplier="Costa Coffee Ltd", reference="ED-1", date="2026-11-04"
    ).json()
    item_status(chat, token, item["id"], "failed")
    blocks = publishing_error_blocks(fake_slack)
    chat.click(click_of(button({"blocks": blocks}, "item_edit")), wait=False)
    view = opened_view(fake_slack)
    assert view["private_metadata"] == f"edit:{item['id']}"
    assert "ED-1" in json.dumps(view)
    save_edit(chat, fake_slack, item["id"], ADMIN, supplier="Costa Coffee Ltd")
    published = item_status(chat, token, item["id"], "published")
    assert published["date"] == "2026-11-05"
