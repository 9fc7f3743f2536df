"""Driving ledgerlink like a Slack workspace would: commands, clicks, and reading replies."""

from __future__ import annotations

import httpx

from tests.conftest import ADMIN
from tests.e2e.conftest import follow_login
from tests.fakes.databases import database_for
from tests.fakes.process import create_api_token
from tests.fakes.slack_requests import interactive, slash_command


class Chat:
    """Slash commands and clicks from one Slack workspace, answered through the fake Slack."""

    def __init__(self, server, fake_slack):
        self.server, self.slack, self.n = server, fake_slack, 0

    def command(self, text: str, *, user: str = ADMIN) -> dict:
        self.n += 1
        key = f"c{self.n}"
        body = slash_command(
            text,
            user_id=user,
            team_id=self.slack.team_id,
            response_url=self.slack.response_url(key),
        )
        assert self.server.post_signed(body).status_code == 200
        return self.slack.wait_for_response(key).args

    def click(
        self, action: dict, *, user: str = ADMIN, team: str | None = None, wait: bool = True
    ) -> dict | None:
        self.n += 1
        key = f"a{self.n}"
        payload = {
            "type": "block_actions",
            "team": {"id": team or self.slack.team_id},
            "user": {"id": user, "team_id": team or self.slack.team_id},
            "api_app_id": "A0001",
            "trigger_id": "1.2.3",
            "channel": {"id": "C0001"},
            "container": {"type": "message", "message_ts": "1.1", "is_ephemeral": True},
            "response_url": self.slack.response_url(key),
            "actions": [action],
        }
        response = self.server.post_signed(interactive(payload))
        assert response.status_code == 200
        return self.slack.wait_for_response(key).args if wait else None

    def responses_after(self, count: int) -> list[dict]:
        return [r.args for r in self.slack.responses[count:]]


def button(message: dict, action_id: str) -> dict:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} in {message}")


def click_of(element: dict, **extra) -> dict:
    return {
        "action_id": element["action_id"],
        "block_id": "b",
        "type": element["type"],
        "value": element.get("value"),
        "action_ts": "1.2",
        **extra,
    }


def connect(chat, provider: str = "xero") -> httpx.Response:
    reply = chat.command(f"connect {provider}")
    link = button(reply, "connection_open_provider_login")["url"]
    return follow_login(chat.server, link)


def db_rows(serve_env, sql: str) -> list[tuple]:
    """Run SQL (committed) on the database serve_env points at, SQLite or PostgreSQL."""
    return database_for(serve_env).rows(sql)


def api_token(serve_env, team_id: str) -> str:
    """A new API token for the team, made by `ledgerlink token create` as an operator would."""
    return create_api_token(serve_env, team_id)
