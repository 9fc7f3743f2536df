"""Block Kit payloads: pure functions from ledgerlink's state to Slack messages and views.

Each function returns `{"text": fallback, "blocks": [...]}` (or a view dict) and does no I/O,
so every message can be unit-tested and validated with `slack_sdk.models` without Slack.
"""

from __future__ import annotations

from bot.wording import PROVIDER_NAMES, day
from handlers.grammar import SUBCOMMANDS, UsageError, usage_line
from handlers.text import code, escape

NOT_CONNECTED = (
    "Not connected. An admin can run `/integrations connect xero` or "
    "`/integrations connect quickbooks`."
)


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def help_lines() -> str:
    return "\n".join(f"`{usage_line(name)}` — {about}" for name, (_, about) in SUBCOMMANDS.items())


def help_message() -> dict:
    return {
        "text": "ledgerlink help",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "ledgerlink commands"}},
            section(help_lines()),
        ],
    }


STATUS_WORDS = {
    "active": "Connected",
    "expired": ":red_circle: *Expired*",
    "revoked": ":red_circle: *Access revoked*",
}


def status_text(connection, now) -> str:
    """One paragraph describing the workspace's connection (or the lack of one)."""
    if connection is None:
        return NOT_CONNECTED
    provider = PROVIDER_NAMES.get(connection.provider, connection.provider)
    lines = [
        f"{STATUS_WORDS.get(connection.status, escape(connection.status))}: {provider} — "
        f"*{escape(connection.tenant_name)}*",
        f"Connected by <@{connection.connected_by}> on {day(connection.connected_at)}",
    ]
    if connection.status == "active":
        days_left = max((connection.expires_at - now).days, 0)
        lines.append(f"Expires on {day(connection.expires_at)} ({days_left} days left)")
    else:
        lines.append("Publishing is paused until an admin runs `/integrations reconnect`.")
    return "\n".join(lines)


def status_message(connection, now) -> dict:
    text = status_text(connection, now)
    return {"text": text, "blocks": [section(text)]}


def overview_message(connection, now) -> dict:
    status = status_message(connection, now)
    return {
        "text": status["text"],
        "blocks": status["blocks"] + [{"type": "divider"}] + help_message()["blocks"],
    }


def usage_error_message(error: UsageError) -> dict:
    text = f":warning: {error.message}"
    if error.suggestion:
        text += f"\nDid you mean {code(error.suggestion, limit=100)}?"
    return {
        "text": text,
        "blocks": [section(text), _context("See every command with `/integrations help`.")],
    }


def refusal_message(action: str, admins: tuple[str, ...]) -> dict:
    who = "Slack workspace admins and owners"
    if admins:
        who += ", and " + ", ".join(f"<@{user_id}>" for user_id in admins)
    text = (
        f"Sorry, only ledgerlink admins can {action}. "
        f"The admins here are {who}: ask one of them for help."
    )
    return {"text": text, "blocks": [section(text)]}


# What each guarded item button does, as it reads in "Only ... can <this>."
ITEM_ACTIONS = {
    "edit": "edit this item",
    "discard": "discard this item",
    "retry": "retry this item",
    "publish_anyway": "publish this item anyway",
}


def item_refusal_message(submitted_by: str | None, what: str) -> dict:
    """Who may edit, discard, retry or publish an item anyway: its submitter or an admin."""
    doing = ITEM_ACTIONS[what]
    if submitted_by:
        text = f"Only <@{submitted_by}> who submitted it, or a ledgerlink admin, can {doing}."
    else:
        text = (
            f"Only a ledgerlink admin can {doing}: it came in through the API without a submitter."
        )
    text += " Nothing was changed."
    return {"text": text, "blocks": [section(text)]}


def notice_view(blocks: list[dict]) -> dict:
    """A small modal that only tells something (for answers that have no message to go to)."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "ledgerlink"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }


def not_available_message(name: str) -> dict:
    text = (
        f"`/integrations {name}` isn't available in this version of ledgerlink yet. "
        "Nothing was changed."
    )
    return {"text": text, "blocks": [section(text)]}


def error_message(text: str) -> dict:
    text = f":warning: {text}"
    return {"text": text, "blocks": [section(text)]}


def admins_message(admins: tuple[str, ...]) -> dict:
    named = ", ".join(f"<@{user_id}>" for user_id in admins) or "nobody else yet"
    text = (
        f"*ledgerlink admins:* Slack workspace admins and owners, plus {named}.\n"
        "Admins can add or remove others with `/integrations admins add @user` and "
        "`/integrations admins remove @user`."
    )
    return {"text": text, "blocks": [section(text)]}


def admin_changed_message(action: str, user_id: str, changed: bool) -> dict:
    if action == "add":
        text = (
            f"<@{user_id}> is now a ledgerlink admin."
            if changed
            else f"<@{user_id}> already was a ledgerlink admin."
        )
    else:
        text = (
            f"<@{user_id}> is no longer a ledgerlink admin."
            if changed
            else f"<@{user_id}> wasn't on the ledgerlink admin list, so nothing changed."
        )
    return {"text": text, "blocks": [section(text)]}


def plain_message(text: str) -> dict:
    """A message from plain text that may contain user or provider words (escaped here)."""
    text = escape(text)
    return {"text": text, "blocks": [section(text)]}
