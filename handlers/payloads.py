"""Reading Slack's interaction payloads: pure helpers shared by the listeners."""

from __future__ import annotations


def team_and_user(body: dict) -> tuple[str, str]:
    """The workspace and user an interaction (button, select, form) came from."""
    return (body.get("team") or {}).get("id") or body["user"]["team_id"], body["user"]["id"]
