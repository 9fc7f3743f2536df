"""Reading Slack's interaction payloads: pure helpers shared by the listeners."""

from __future__ import annotations


def team_and_user(body: dict) -> tuple[str, str]:
    """The workspace and user an interaction (button, select, form) came from."""
    return (body.get("team") or {}).get("id") or body["user"]["team_id"], body["user"]["id"]


MAX_ID_DIGITS = 18  # SQLite integers are 64-bit


def parse_id(text) -> int | None:
    """A row ID from a button value or a URL: ASCII digits only, within SQLite's range.

    `str.isdigit` alone also accepts "²" (which `int` refuses) and any length (which SQLite
    refuses), and a forged value must be refused, not crash the handler."""
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()):
        return None
    return int(text) if len(text) <= MAX_ID_DIGITS else None


INTERACTIONS = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "interactive_message",
    }
)


def _text(value) -> bool:
    return isinstance(value, str) and bool(value)


def well_formed(body) -> bool:
    """Whether a request is a command, an interaction or an event with the parts that Bolt and
    every listener of its kind read: who sent it, from which workspace, what was clicked,
    chosen or submitted. Slack's own requests always are; anything else is refused."""
    if not isinstance(body, dict):
        return False
    if body.get("ssl_check") == "1":
        return True
    if "command" in body:
        return all(_text(body.get(key)) for key in ("command", "team_id", "user_id"))
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        return isinstance(event, dict) and _text(event.get("type"))
    if kind not in INTERACTIONS:
        return kind in ("url_verification", "app_rate_limited")
    user, team = body.get("user"), body.get("team")
    if not isinstance(user, dict) or not _text(user.get("id")):
        return False
    if not _text((team.get("id") if isinstance(team, dict) else None) or user.get("team_id")):
        return False
    if kind in ("block_actions", "shortcut", "message_action") and not _text(
        body.get("trigger_id")
    ):
        return False
    if kind == "block_actions":
        actions = body.get("actions")
        return (
            isinstance(actions, list)
            and bool(actions)
            and all(isinstance(a, dict) and _text(a.get("action_id")) for a in actions)
        )
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or not _text(view.get("callback_id")):
            return False
        state = view.get("state")
        return kind == "view_closed" or (
            isinstance(state, dict) and isinstance(state.get("values"), dict)
        )
    if kind == "block_suggestion":
        return _text(body.get("action_id"))
    if kind in ("shortcut", "message_action"):
        return _text(body.get("callback_id"))
    return True
