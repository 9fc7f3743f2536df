"""Items in Slack: the submit form, supplier prompts and publishing-error buttons.

Answers name an item by ID; every handler loads it only within the clicker's own workspace, so
another workspace's item cannot be acted on. Anyone in the channel may answer a supplier
prompt; the first answer wins, and later clicks are told who answered and what they chose.
Edit, Discard, Retry and Publish anyway are for the item's submitter or an admin, checked on
every click and again when the edit form is saved (`handlers.guards`).
"""

from __future__ import annotations

import functools

from bot.item_input import parse_item
from handlers import ids, messages, outbox_messages
from handlers import item_messages as msgs
from handlers.deps import Deps
from handlers.grammar import Command
from handlers.guards import item_named, item_refusal, may_change_item, submitter_or_admin
from handlers.payloads import team_and_user
from handlers.settings import expense_accounts

EDIT_PREFIX = "edit:"
EDITABLE = ("failed", "held", "needs_supplier")


def _private(respond, message: dict) -> None:
    respond(**message, response_type="ephemeral", replace_original=False)


# -- the form ----------------------------------------------------------------------------------


def open_form(
    client, deps: Deps, *, team_id: str, trigger_id: str, metadata: str, item=None
) -> None:
    connection = deps.store.current_connection(team_id)
    client.views_open(
        trigger_id=trigger_id,
        view=msgs.item_form(
            metadata=metadata,
            accounts=expense_accounts(deps, connection),
            today=deps.clock.now().date(),
            item=item,
        ),
    )


def submit_command(parsed: Command, command: dict, client, deps: Deps) -> None:
    open_form(
        client,
        deps,
        team_id=command["team_id"],
        trigger_id=command["trigger_id"],
        metadata=command.get("channel_id") or "",
    )


def on_shortcut(ack, body, client, *, deps: Deps) -> None:
    ack()
    team_id, _ = team_and_user(body)
    open_form(client, deps, team_id=team_id, trigger_id=body["trigger_id"], metadata="")


def on_form_submitted(ack, body, view, client, *, deps: Deps) -> None:
    team_id, user_id = team_and_user(body)
    metadata = view.get("private_metadata") or ""
    editing = metadata.startswith(EDIT_PREFIX)
    item = item_named(metadata[len(EDIT_PREFIX) :], team_id, deps) if editing else None
    # Checked again on saving: the form may have been opened by someone allowed, or forged.
    if item is not None and not may_change_item(deps, client, team_id, user_id, item):
        refusal = item_refusal(item, "edit")
        ack(response_action="update", view=messages.notice_view(refusal["blocks"]))
        return
    data, errors = parse_item({**msgs.form_data(view["state"]["values"])})
    if errors:
        ack(response_action="errors", errors=msgs.form_errors(errors))
        return
    category = deps.items.check_category(team_id, data.category)
    if category is not None and category.error:
        ack(response_action="errors", errors=msgs.form_errors({"category": category.error}))
        return
    account_id = category.account.remote_id if category else None
    if editing:
        if item is None or item.status not in EDITABLE:
            ack(
                response_action="errors",
                errors={ids.ITEM_SUPPLIER_BLOCK: "This item can no longer be edited."},
            )
            return
        ack()
        deps.executor.submit(deps.items.edit, item, data, actor=user_id)
        return
    ack()
    channel = metadata if metadata[:1] in ("C", "G", "D") else None
    deps.executor.submit(
        deps.items.submit,
        team_id,
        data,
        source="slack",
        submitted_by=user_id,
        channel_id=channel,
        category_account_id=account_id,
    )


# -- prompt answers ----------------------------------------------------------------------------


def _answered(respond, item, reason: str | None) -> None:
    if reason == "already":
        _private(respond, msgs.already_resolved(item))
    elif reason:
        _private(respond, msgs.stale(reason))


def _button_item(body, action, respond, deps: Deps):
    """(user_id, item) for a button naming one of this team's items; the item is None, and the
    user was told the button is stale, when there is no such item."""
    team_id, user_id = team_and_user(body)
    item = item_named(action.get("value"), team_id, deps)
    if item is None:
        _private(respond, msgs.stale())
    return user_id, item


def on_create_supplier(ack, body, action, respond, *, deps: Deps) -> None:
    ack()
    user_id, item = _button_item(body, action, respond, deps)
    if item is None:
        return
    _, reason = deps.items.create_supplier(item, actor=user_id)
    _answered(respond, item, reason)


def on_use_supplier(ack, body, action, respond, *, deps: Deps) -> None:
    ack()
    team_id, user_id = team_and_user(body)
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    item = item_named(value, team_id, deps)
    supplier_id = value.partition("|")[2]
    if item is None or not supplier_id:
        _private(respond, msgs.stale())
        return
    current, reason = deps.items.use_existing(item, supplier_id, actor=user_id)
    _answered(respond, current, reason)


def on_supplier_search(ack, body, payload, *, deps: Deps) -> None:
    """Options for the "search all suppliers" select: at most 100, fast."""
    team_id, _ = team_and_user(body)
    item_id = (payload.get("block_id") or "").rpartition("_")[2]
    item = item_named(item_id, team_id, deps)
    if item is None or item.status != "needs_supplier":
        ack(options=[])
        return
    ack(**msgs.supplier_options(item.id, deps.items.candidates_for(item, payload.get("value", ""))))


def on_category_search(ack, body, payload, *, deps: Deps) -> None:
    team_id, _ = team_and_user(body)
    query = (payload.get("value") or "").lower()
    accounts = expense_accounts(deps, deps.store.current_connection(team_id))
    found = [
        (code, name) for code, name in accounts if query in code.lower() or query in name.lower()
    ][:100]
    ack(
        options=[
            {"text": {"type": "plain_text", "text": f"{code} {name}"[:75]}, "value": code[:150]}
            for code, name in found
        ]
    )


# -- holds and errors: for the submitter or an admin (handlers.guards) -----------------------


def _item_action(service_call: str):
    @submitter_or_admin(service_call)
    def handler(body, item, client, respond, *, deps: Deps) -> None:
        _, user_id = team_and_user(body)
        _, reason = getattr(deps.items, service_call)(item, actor=user_id)
        if reason == "already":
            _private(respond, msgs.stale(f"Item #{item.id} was already handled."))

    return handler


on_publish_anyway = _item_action("publish_anyway")
on_discard = _item_action("discard")
on_retry = _item_action("retry")


def on_open_prompt(ack, body, action, respond, *, deps: Deps) -> None:
    """A grouped message's "Open": that item's own prompt, in the group's thread. Anyone who
    may answer a prompt may open it (answering checks again)."""
    ack()
    user_id, item = _button_item(body, action, respond, deps)
    if item is None:
        return
    reason = deps.items.open_prompt(item, actor=user_id)
    if reason == "already":
        _private(respond, msgs.already_resolved(item))
    elif reason is not None:
        _private(respond, outbox_messages.opened(item, "this message"))


@submitter_or_admin("edit")
def on_edit(body, item, client, respond, *, deps: Deps) -> None:
    if item.status not in EDITABLE:
        _private(respond, msgs.stale("That item can't be edited now."))
        return
    open_form(
        client,
        deps,
        team_id=item.team_id,
        trigger_id=body["trigger_id"],
        metadata=f"{EDIT_PREFIX}{item.id}",
        item=item,
    )


def register(app, deps: Deps) -> None:
    bind = functools.partial
    app.shortcut(ids.SUBMIT_SHORTCUT)(bind(on_shortcut, deps=deps))
    app.view(ids.ITEM_VIEW)(bind(on_form_submitted, deps=deps))
    app.action(ids.CREATE_SUPPLIER)(bind(on_create_supplier, deps=deps))
    app.action(ids.USE_SUPPLIER)(bind(on_use_supplier, deps=deps))
    app.action(ids.MORE_SUPPLIERS)(bind(on_use_supplier, deps=deps))
    app.action(ids.SEARCH_SUPPLIERS)(bind(on_use_supplier, deps=deps))
    app.options(ids.SEARCH_SUPPLIERS)(bind(on_supplier_search, deps=deps))
    app.options(ids.ITEM_CATEGORY)(bind(on_category_search, deps=deps))
    app.action(ids.PUBLISH_ANYWAY)(bind(on_publish_anyway, deps=deps))
    app.action(ids.DISCARD_ITEM)(bind(on_discard, deps=deps))
    app.action(ids.RETRY_ITEM)(bind(on_retry, deps=deps))
    app.action(ids.EDIT_ITEM)(bind(on_edit, deps=deps))
    app.action(ids.OPEN_PROMPT)(bind(on_open_prompt, deps=deps))
    app.action(ids.VIEW_BILL)(lambda ack: ack())
    # Choosing a category in the form needs no answer until the form is submitted.
    app.action(ids.ITEM_CATEGORY)(lambda ack: ack())
