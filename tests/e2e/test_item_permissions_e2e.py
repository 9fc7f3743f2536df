"""Who may act on an item, through `ledgerlink serve`: Edit, Discard, Retry and Publish anyway
(and saving the edit form) are for the item's submitter or a ledgerlink admin; anyone may
answer the supplier question. Others get a private refusal and the item is unchanged."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import ADMIN, STAFF
from tests.e2e.chat import button, click_of
from tests.e2e.test_items_e2e import (
    form_values,
    get_item,
    item_status,
    opened_view,
    post_item,
    prompt_for,
    save_edit,
    submit_form,
    workspace,  # noqa: F401  (the fixture)
)

pytestmark = pytest.mark.e2e

OUTSIDER = "UOUTSIDE"  # neither submitted the item nor is an admin


def refusal(doing: str) -> str:
    return f"Only <@{STAFF}> who submitted it, or a ledgerlink admin, can {doing}."


def message_about(fake_slack, method: str, words: str, item_id: int) -> dict:
    """The newest message about item `item_id` with `words` that ledgerlink sent with
    `method`, its blocks decoded."""

    def find(fake):
        for call in reversed(fake.calls_to(method)):
            blocks = call.args.get("blocks")
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            if words in call.args.get("text", "") and f"Item #{item_id} " in json.dumps(blocks):
                return {**call.args, "blocks": blocks}
        return None

    return fake_slack.wait_for(find)


def held_duplicate(
    chat, token, fake_slack, reference: str, total: str, **fields
) -> tuple[dict, dict]:
    """An item held as a duplicate (by default submitted by STAFF), and its held message.
    Each call uses its own `total`, so it duplicates only its own first item."""
    same = {"supplier": "Costa Coffee Ltd", "total": total}
    first = post_item(chat, token, reference=f"{reference}-A", **same)
    item_status(chat, token, first.json()["id"], "published")
    fields = {"submitted_by": STAFF, **fields}
    held = post_item(chat, token, reference=f"{reference}-B", **same, **fields).json()
    assert held["status"] == "held"
    return held, message_about(fake_slack, "chat.postMessage", "Looks like a duplicate", held["id"])


def test_held_duplicate_buttons_are_for_the_submitter_or_an_admin(workspace, fake_slack):  # noqa: F811
    """Publish anyway and Discard by someone else are refused privately and change nothing;
    the submitter can discard, and an admin can publish anyway."""
    chat, token = workspace
    fake_slack.add_user(OUTSIDER, name="Olly Outsider")
    held, message = held_duplicate(chat, token, fake_slack, "PERM1", "11.00")
    publish = click_of(button(message, "item_publish_anyway"))
    discard = click_of(button(message, "item_discard"))
    for action, doing in ((publish, "publish this item anyway"), (discard, "discard this item")):
        reply = chat.click(action, user=OUTSIDER)
        assert reply["text"].startswith(refusal(doing)), reply["text"]
        assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert get_item(chat, token, held["id"])["status"] == "held"
    chat.click(discard, user=STAFF, wait=False)
    item_status(chat, token, held["id"], "discarded")

    again, message = held_duplicate(chat, token, fake_slack, "PERM2", "12.00")
    chat.click(click_of(button(message, "item_publish_anyway")), user=ADMIN, wait=False)
    item_status(chat, token, again["id"], "published")


def test_retry_and_edit_are_for_the_submitter_or_an_admin(workspace, fake_slack, xero):  # noqa: F811
    """On a refused bill, Retry and Edit by someone else are refused (no form opens) and an
    edit form saved by them is refused in the form; the submitter's edit publishes it, and
    an admin's Retry publishes another."""
    chat, token = workspace
    fake_slack.add_user(OUTSIDER, name="Olly Outsider")
    chat.command("warn-new-supplier off")
    refused = httpx.Response(
        400, json={"Elements": [{"ValidationErrors": [{"Message": "Bad date."}]}]}
    )
    xero.queue("/api.xro/2.0/Invoices", refused)
    item = post_item(
        chat, token, supplier="Fine Foods Limited", reference="PERM-E", submitted_by=STAFF
    ).json()
    before = item_status(chat, token, item["id"], "failed")
    message = message_about(fake_slack, "chat.update", "Publishing error:", item["id"])
    retry = click_of(button(message, "item_retry"))
    edit = click_of(button(message, "item_edit"))
    for action, doing in ((retry, "retry this item"), (edit, "edit this item")):
        assert chat.click(action, user=OUTSIDER)["text"].startswith(refusal(doing))
    assert fake_slack.calls_to("views.open") == []

    values = form_values(supplier="Hijacked Ltd", date="2026-11-06", total="1.00")
    forged = submit_form(chat, fake_slack, values, metadata=f"edit:{item['id']}", user=OUTSIDER)
    answer = forged.json()
    assert answer["response_action"] == "update"
    assert refusal("edit this item") in json.dumps(answer["view"])
    after = get_item(chat, token, item["id"])
    assert (after["status"], after["supplier"], after["date"], after["total"]) == (
        "failed",
        before["supplier"],
        before["date"],
        before["total"],
    )

    chat.click(edit, user=STAFF, wait=False)
    assert opened_view(fake_slack)["private_metadata"] == f"edit:{item['id']}"
    save_edit(chat, fake_slack, item["id"], STAFF, supplier="Fine Foods Limited")
    assert item_status(chat, token, item["id"], "published")["date"] == "2026-11-05"

    xero.queue("/api.xro/2.0/Invoices", refused)
    other = post_item(chat, token, supplier="Fine Foods Limited", reference="PERM-R").json()
    item_status(chat, token, other["id"], "failed")
    message = message_about(fake_slack, "chat.update", "Publishing error:", other["id"])
    chat.click(click_of(button(message, "item_retry")), user=ADMIN, wait=False)
    item_status(chat, token, other["id"], "published")


def test_anyone_may_answer_the_supplier_question(workspace, fake_slack, xero):  # noqa: F811
    """Someone who neither submitted the item nor is an admin answers the prompt with
    Create supplier, and the bill is published."""
    chat, token = workspace
    fake_slack.add_user(OUTSIDER, name="Olly Outsider")
    item = post_item(chat, token, supplier="Brand New Bakery", submitted_by=STAFF).json()
    assert item["status"] == "needs_supplier"
    create = button(prompt_for(fake_slack, item["id"]), "item_create_supplier")
    chat.click(click_of(create), user=OUTSIDER, wait=False)
    published = item_status(chat, token, item["id"], "published")
    assert {"status": "ready", "actor": OUTSIDER} in [
        {"status": e["status"], "actor": e["actor"]} for e in published["history"]
    ]
    assert any(c["Name"] == "Brand New Bakery" for c in xero.contacts)


def test_an_api_item_without_a_submitter_is_for_admins(workspace, fake_slack):  # noqa: F811
    """Discard on an item that came in through the API without submitted_by is refused for
    staff, saying only admins can, and works for an admin."""
    chat, token = workspace
    item, message = held_duplicate(chat, token, fake_slack, "PERM3", "13.00", submitted_by=None)
    action = click_of(button(message, "item_discard"))
    reply = chat.click(action, user=STAFF)
    assert reply["text"].startswith("Only a ledgerlink admin can discard this item")
    assert get_item(chat, token, item["id"])["status"] == "held"
    chat.click(action, user=ADMIN, wait=False)
    item_status(chat, token, item["id"], "discarded")
