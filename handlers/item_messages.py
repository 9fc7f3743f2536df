"""Block Kit for items: supplier prompts, outcomes, publishing errors, the submit form. Pure."""

from __future__ import annotations

from datetime import date

from handlers import ids
from handlers.connection_messages import actions, provider_name, reconnect_button
from handlers.messages import day, section
from handlers.text import escape, plain_text

BUTTON_CANDIDATES = 3
SELECT_CANDIDATES = 10


def _button(
    text: str, action_id: str, value: str, *, style: str | None = None, url: str | None = None
) -> dict:
    button = {
        "type": "button",
        "text": plain_text(text),
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        button["style"] = style
    if url:
        button["url"] = url
    return button


def amount(item) -> str:
    return f"{item.currency + ' ' if item.currency else ''}{item.total}"


def details(item) -> str:
    """One line: date · total · reference · who submitted it."""
    parts = [day(date.fromisoformat(item.date)), amount(item)]
    if item.reference:
        parts.append(f"ref {escape(item.reference)}")
    if item.submitted_by:
        parts.append(f"submitted by <@{item.submitted_by}>")
    return f"Item #{item.id} · " + " · ".join(parts)


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _message(text: str, *blocks: dict) -> dict:
    return {"text": text, "blocks": [section(text), *blocks]}


def supplier_prompt(item, org_name: str, candidates) -> dict:
    """ "❗ *name* is not a supplier in Org yet", with create / use / choose / search."""
    text = (
        f":exclamation: *{escape(item.supplier_name)}* is not a supplier in {escape(org_name)} yet"
    )
    create = _button(
        f'Create supplier "{item.supplier_name[:50]}"',
        ids.CREATE_SUPPLIER,
        str(item.id),
        style="primary",
    )
    buttons = [create] + [
        _button(f"Use {c.name[:70]}", ids.USE_SUPPLIER, f"{item.id}|{c.supplier_id}")
        for c in candidates[:BUTTON_CANDIDATES]
    ]
    blocks = [section(text), _context(details(item)), actions(*buttons, block_id="prompt_main")]
    more = candidates[BUTTON_CANDIDATES : BUTTON_CANDIDATES + SELECT_CANDIDATES]
    pickers = []
    if more:
        pickers.append(
            {
                "type": "static_select",
                "action_id": ids.MORE_SUPPLIERS,
                "placeholder": plain_text("More close matches"),
                "options": [
                    {"text": plain_text(c.name[:75]), "value": f"{item.id}|{c.supplier_id}"[:150]}
                    for c in more
                ],
            }
        )
    pickers.append(
        {
            "type": "external_select",
            "action_id": ids.SEARCH_SUPPLIERS,
            "placeholder": plain_text("Search all suppliers"),
            "min_query_length": 1,
        }
    )
    blocks.append(actions(*pickers, block_id=f"prompt_pick_{item.id}"))
    return {"text": text, "blocks": blocks}


def supplier_options(item_id: int, candidates) -> dict:
    """The options-load answer for the supplier search (at most 100)."""
    return {
        "options": [
            {"text": plain_text(c.name[:75]), "value": f"{item_id}|{c.supplier_id}"[:150]}
            for c in candidates[:100]
        ]
    }


def resolved(item, actor: str, *, chosen: str | None = None) -> dict:
    """The prompt, answered: who chose which existing supplier (or chose to create the new
    one), while it publishes; no buttons left."""
    if chosen is None:
        outcome = f"chose to create supplier *{escape(item.supplier_name)}*"
    else:
        outcome = f'chose *{escape(chosen)}* for "{escape(item.supplier_name)}"'
    text = f":white_check_mark: <@{actor}> {outcome} — publishing…"
    return _message(text, _context(details(item)))


def already_resolved(item) -> dict:
    who = f"<@{item.resolved_by}>" if item.resolved_by else "someone"
    choice = escape(item.supplier_display or item.supplier_name)
    return _message(f"Already resolved by {who}: *{choice}*. Nothing was changed.")


def publishing(item) -> dict:
    return _message(
        f":hourglass_flowing_sand: Publishing *{escape(item.supplier_name)}*…",
        _context(details(item)),
    )


def published(item, provider: str, *, note: str | None = None, notes: tuple = ()) -> dict:
    """The outcome; for a prompt someone answered, who chose what ("✅ @sam chose ...")."""
    name = provider_name(provider)
    supplier = escape(item.supplier_display or item.supplier_name)
    if item.resolution == "chosen" and item.resolved_by:
        text = (
            f":white_check_mark: <@{item.resolved_by}> chose *{supplier}* — bill "
            f"published to {name}"
        )
    elif item.resolution == "created" and item.resolved_by:
        text = (
            f":white_check_mark: <@{item.resolved_by}> created supplier *{supplier}* — "
            f"bill published to {name}"
        )
    else:
        text = f":white_check_mark: Published to {name}: *{supplier}*, {amount(item)}"
    if note:
        text += f" (the supplier: {escape(note)})"
    for line in notes:  # what the provider's rules changed, e.g. a shortened reference
        text += f"\n:information_source: {escape(line)}."
    blocks = [section(text), _context(details(item))]
    if item.bill_url:
        blocks.append(
            actions(_button(f"View in {name}", ids.VIEW_BILL, str(item.id), url=item.bill_url))
        )
    return {"text": text, "blocks": blocks}


def publish_error(item, words: str) -> dict:
    text = f":warning: Publishing error: {escape(words)}"
    return _message(
        text,
        _context(details(item) + ". The item is kept."),
        actions(
            _button("Retry", ids.RETRY_ITEM, str(item.id), style="primary"),
            _button("Edit", ids.EDIT_ITEM, str(item.id)),
        ),
    )


def queued(item, words: str) -> dict:
    return _message(f":hourglass: Queued, will retry: {escape(words)}", _context(details(item)))


def connection_expired(item, connection) -> dict:
    name = provider_name(connection.provider)
    # A grant revoked at the provider ends the connection before its expiry date: say why.
    reason = (connection.status_reason or "").strip().rstrip(".")
    when = f" ({escape(reason)})" if reason else f" on {day(connection.expires_at)}"
    text = (
        f":warning: Publishing error: the {name} connection expired{when}. An admin needs to "
        "reconnect; this item will be published then."
    )
    return _message(
        text, _context(details(item)), actions(reconnect_button(connection.id, connection.provider))
    )


def waiting_for_sync(item, connection) -> dict:
    """The item came before the connection's first sync finished: it waits, nothing is lost."""
    return _message(
        ":hourglass_flowing_sand: Waiting for the first sync of "
        f"*{escape(connection.tenant_name)}* from {provider_name(connection.provider)}… "
        "this item goes ahead as soon as its "
        "suppliers and accounts are in.",
        _context(details(item)),
    )


def not_connected(item) -> dict:
    return _message(
        ":warning: Publishing error: this workspace isn't connected to accounting software. "
        "An admin can run `/integrations connect xero` or `/integrations connect quickbooks`; "
        "this item will be published then.",
        _context(details(item)),
    )


def expired_admin_notice(connection) -> dict:
    name = provider_name(connection.provider)
    text = (
        f":warning: Publishing is paused: the {name} connection to "
        f"*{escape(connection.tenant_name)}* expired on {day(connection.expires_at)}. "
        "Items are kept and will be published after someone reconnects."
    )
    return _message(text, actions(reconnect_button(connection.id, connection.provider)))


def duplicate(item, original) -> dict:
    text = (
        f":warning: Looks like a duplicate of item #{original.id} "
        f"({escape(original.supplier_name)}, {day(date.fromisoformat(original.date))}, "
        f"{amount(original)}). It is held until someone decides."
    )
    return _message(
        text,
        _context(details(item)),
        actions(
            _button("Publish anyway", ids.PUBLISH_ANYWAY, str(item.id), style="primary"),
            _button("Discard", ids.DISCARD_ITEM, str(item.id), style="danger"),
        ),
    )


def discarded(item, actor: str) -> dict:
    return _message(
        f":wastebasket: <@{actor}> discarded item #{item.id} "
        f"({escape(item.supplier_name)}, {amount(item)})."
    )


def held_published(count: int, provider: str) -> dict:
    noun = "item" if count == 1 else "items"
    return _message(
        f":white_check_mark: {count} held {noun} published to {provider_name(provider)}."
    )


def prompt_reminder(item, permalink_hint: str = "") -> dict:
    return _message(
        f":bell: Item #{item.id} from *{escape(item.supplier_name)}* is waiting "
        "for someone to choose or create its supplier." + permalink_hint
    )


def stale(reason: str = "That item isn't in this workspace.") -> dict:
    return _message(f"{escape(reason)} Nothing was changed.")


# -- the submit / edit form --------------------------------------------------------------------


def _input(
    block_id: str, label: str, element: dict, *, optional: bool = False, hint: str | None = None
) -> dict:
    block = {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain_text(hint)
    return block


def _text_input(
    action_id: str,
    initial: str | None = None,
    *,
    multiline: bool = False,
    max_length: int | None = None,
) -> dict:
    element = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline}
    if initial:
        element["initial_value"] = initial
    if max_length:
        element["max_length"] = max_length
    return element


# The form's free-text fields by item attribute: (block_id, action_id, label, max_length).
_ITEM_TEXT_FIELDS = {
    "supplier_name": (ids.ITEM_SUPPLIER_BLOCK, ids.ITEM_SUPPLIER, "Supplier", 200),
    "total": (ids.ITEM_TOTAL_BLOCK, ids.ITEM_TOTAL, "Total", 20),
    "currency": (ids.ITEM_CURRENCY_BLOCK, ids.ITEM_CURRENCY, "Currency", 3),
    "tax": (ids.ITEM_TAX_BLOCK, ids.ITEM_TAX, "Tax", 50),
    "reference": (ids.ITEM_REFERENCE_BLOCK, ids.ITEM_REFERENCE, "Supplier's reference", 255),
    "description": (ids.ITEM_DESCRIPTION_BLOCK, ids.ITEM_DESCRIPTION, "Description", 3000),
}
_ITEM_REQUIRED_TEXT = {"supplier_name", "total"}
_ITEM_TEXT_HINTS = {
    "total": "Including tax, e.g. 12.50",
    "currency": "Three letters, e.g. GBP. Leave empty for the organisation's currency.",
    "tax": "A tax rate code from the accounting software, or the tax amount",
}


def _item_text_block(attr: str, item) -> dict:
    """One free-text input of the item form, prefilled from `item` when editing."""
    block_id, action_id, label, max_length = _ITEM_TEXT_FIELDS[attr]
    element = _text_input(
        action_id,
        getattr(item, attr) if item else None,
        multiline=attr == "description",
        max_length=max_length,
    )
    optional = attr not in _ITEM_REQUIRED_TEXT
    return _input(block_id, label, element, optional=optional, hint=_ITEM_TEXT_HINTS.get(attr))


def item_form(*, metadata: str, accounts: list[tuple[str, str]], today: date, item=None) -> dict:
    """The submit form (or, with `item`, the edit form). Accounts are (code, name)."""
    if len(accounts) > 100:
        category = {
            "type": "external_select",
            "action_id": ids.ITEM_CATEGORY,
            "placeholder": plain_text("Search accounts"),
            "min_query_length": 0,
        }
    elif accounts:
        options = [
            {"text": plain_text(f"{code} {name}"[:75]), "value": code[:150]}
            for code, name in accounts
        ]
        category = {
            "type": "static_select",
            "action_id": ids.ITEM_CATEGORY,
            "placeholder": plain_text("Choose an account"),
            "options": options,
        }
        chosen = next((o for o in options if item and o["value"] == item.category), None)
        if chosen:
            category["initial_option"] = chosen
    else:
        category = _text_input(ids.ITEM_CATEGORY, item.category if item else None, max_length=50)
    when = {
        "type": "datepicker",
        "action_id": ids.ITEM_DATE,
        "initial_date": item.date if item else today.isoformat(),
    }
    blocks = [
        _item_text_block("supplier_name", item),
        _input(ids.ITEM_DATE_BLOCK, "Date", when),
        _item_text_block("total", item),
        _item_text_block("currency", item),
        _item_text_block("tax", item),
        _item_text_block("reference", item),
        _input(ids.ITEM_CATEGORY_BLOCK, "Category", category, optional=True),
        _item_text_block("description", item),
    ]
    title = f"Edit item #{item.id}" if item else "Submit a receipt"
    return {
        "type": "modal",
        "callback_id": ids.ITEM_VIEW,
        "private_metadata": metadata,
        "title": plain_text(title[:24]),
        "submit": plain_text("Save" if item else "Submit"),
        "close": plain_text("Cancel"),
        "blocks": blocks,
    }


FORM_FIELDS = {
    "supplier": (ids.ITEM_SUPPLIER_BLOCK, ids.ITEM_SUPPLIER),
    "date": (ids.ITEM_DATE_BLOCK, ids.ITEM_DATE),
    "total": (ids.ITEM_TOTAL_BLOCK, ids.ITEM_TOTAL),
    "currency": (ids.ITEM_CURRENCY_BLOCK, ids.ITEM_CURRENCY),
    "tax": (ids.ITEM_TAX_BLOCK, ids.ITEM_TAX),
    "reference": (ids.ITEM_REFERENCE_BLOCK, ids.ITEM_REFERENCE),
    "category": (ids.ITEM_CATEGORY_BLOCK, ids.ITEM_CATEGORY),
    "description": (ids.ITEM_DESCRIPTION_BLOCK, ids.ITEM_DESCRIPTION),
}


def form_data(values: dict) -> dict:
    """The submitted form as the item API's JSON fields (pure)."""
    data = {}
    for name, (block_id, action_id) in FORM_FIELDS.items():
        element = (values.get(block_id) or {}).get(action_id) or {}
        value = (
            element.get("value")
            or element.get("selected_date")
            or (element.get("selected_option") or {}).get("value")
        )
        if value not in (None, ""):
            data[name] = value
    return data


def form_errors(errors: dict[str, str]) -> dict[str, str]:
    """Per-field API errors, keyed by the form's block IDs (unknown fields go on supplier)."""
    shown = {}
    for name, message in errors.items():
        block_id = FORM_FIELDS.get(name, FORM_FIELDS["supplier"])[0]
        label = name.replace("_", " ").capitalize()
        shown.setdefault(block_id, message if name in FORM_FIELDS else f"{label}: {message}")
    return shown
