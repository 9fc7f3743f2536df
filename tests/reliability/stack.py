"""One running ledgerlink with every fake it talks to, for the reliability suite.

`Stack` starts the fake Slack, fake Xero and fake QuickBooks (each behind a `FaultyLoopback`
that can misbehave on command) and `ledgerlink serve` in a subprocess, and drives it like
Slack workspaces and API clients would: slash commands and clicks from any team, items over
the HTTP API, `ledgerlink tick --now`, SIGKILL and restart, and reads of its database (a
SQLite file, or a PostgreSQL database of its own).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from tests.conftest import ADMIN, SIGNING_SECRET, STAFF
from tests.e2e.conftest import PUBLIC_URL, ProviderLogin, follow_login
from tests.fakes.databases import TestDatabase
from tests.fakes.process import ServeProcess, create_api_token, wait_until
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_requests import interactive, signed_headers, slash_command
from tests.providers import fake_quickbooks, fake_xero
from tests.reliability.faults import FaultyLoopback

OTHER_TEAM = "T0002"
OUTSIDER = "UOUTSIDE"  # a staff member who submitted nothing


def blocks_of(args: dict) -> list[dict]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def element(blocks: list[dict], action_id: str) -> dict:
    for block in blocks:
        for item in block.get("elements", []):
            if item.get("action_id") == action_id:
                return item
    raise AssertionError(f"no {action_id} in {blocks}")


def guarded(stack) -> dict:
    """What a refused request must not change: items that only people move, rules, admins,
    settings, connections and logins in progress."""
    return {
        "items": stack.rows(
            "SELECT id, team_id, status, supplier_id, resolution, total FROM items "
            "WHERE status IN ('needs_supplier', 'held', 'failed', 'discarded') ORDER BY id"
        ),
        "rules": stack.rows("SELECT * FROM supplier_rules ORDER BY rowid"),
        "admins": stack.rows("SELECT * FROM admins ORDER BY rowid"),
        "settings": stack.rows(
            "SELECT team_id, warn_new_supplier, notification_channel, bill_status, "
            "default_account_code FROM workspaces ORDER BY team_id"
        ),
        "connections": stack.rows("SELECT id, team_id, status, tenant_id FROM connections"),
        "grants": stack.rows("SELECT id, used_at FROM pending_grants ORDER BY id"),
        "audit": stack.rows("SELECT count(*) FROM audit_log WHERE action != 'login_started'"),
    }


class Stack:
    def __init__(self, workdir: Path, *, database: TestDatabase | None = None, **env):
        """database: where serve keeps its data (default: a SQLite file in workdir)."""
        self.workdir = workdir
        self.database = database or TestDatabase("sqlite", str(workdir / "ledgerlink.db"))
        self.slack = FakeSlack().start()
        self.slack.add_user(ADMIN, admin=True, name="Alex Admin")
        self.slack.add_user(STAFF, name="Sam Staff")
        self.slack.add_user(OUTSIDER, name="Olly Outsider")
        self.xero = fake_xero.FakeXero()
        self.xero.add_contacts(1, Name="Costa Coffee Ltd")
        self.xero.add_contacts(1, Name="Fine Foods Limited")
        self.xero_net = FaultyLoopback(
            ProviderLogin(self.xero, authorize_path="/identity/connect/authorize").handle
        ).start()
        self.quickbooks = fake_quickbooks.FakeQuickBooks()
        self.quickbooks_net = FaultyLoopback(
            ProviderLogin(
                self.quickbooks,
                authorize_path="/connect/oauth2",
                extra={"realmId": self.quickbooks.realm_id},
            ).handle
        ).start()
        xero_url, qbo_url = self.xero_net.url, self.quickbooks_net.url
        self.env = {
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            **self.database.env,
            "LEDGERLINK_SECRET_KEY": Fernet.generate_key().decode(),
            "LEDGERLINK_PUBLIC_URL": PUBLIC_URL,
            "XERO_CLIENT_ID": fake_xero.CLIENT_ID,
            "XERO_CLIENT_SECRET": fake_xero.CLIENT_SECRET,
            "XERO_LOGIN_URL": xero_url,
            "XERO_IDENTITY_URL": xero_url,
            "XERO_API_URL": xero_url,
            "QBO_CLIENT_ID": fake_quickbooks.CLIENT_ID,
            "QBO_CLIENT_SECRET": fake_quickbooks.CLIENT_SECRET,
            "QBO_AUTH_URL": f"{qbo_url}/connect/oauth2",
            "QBO_TOKEN_URL": f"{qbo_url}/oauth2/v1/tokens/bearer",
            "QBO_API_URL": qbo_url,
            **env,
        }
        self.server: ServeProcess | None = None
        # One pooled client: a new httpx client per request costs more than the request.
        self.http = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=256))
        self.api_tokens: dict[str, str] = {}
        self._token_lock = threading.Lock()
        self._n = 0

    # -- the process ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> Stack:
        log = self.workdir / "serve.log"
        if log.exists():  # a restart: keep the old log, and let the new one say its own port
            log.rename(self.workdir / f"serve-{len(list(self.workdir.glob('serve*.log')))}.log")
        self.server = ServeProcess(self.env, self.workdir).start()
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine or the OOM killer stops it."""
        self.server.process.kill()
        self.server.process.wait(10)

    def stop(self) -> None:
        try:
            if self.server is not None:
                self.server.stop()
        finally:
            self.http.close()
            self.xero_net.stop()
            self.quickbooks_net.stop()
            self.slack.stop()

    def log(self) -> str:
        """Everything every server process of this stack logged."""
        logs = [*sorted(self.workdir.glob("serve-*.log")), self.workdir / "serve.log"]
        return "".join(path.read_text(errors="replace") for path in logs if path.exists())

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env={**self.env, "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"},
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def tick(self, now: datetime) -> str:
        """`ledgerlink tick --now <now>`: every job due at `now`, once."""
        return self.cli("tick", "--now", now.isoformat()).stdout

    # -- the database -----------------------------------------------------------------------

    @property
    def db_path(self) -> str:
        """The SQLite file (SQLite stacks only)."""
        return self.env["LEDGERLINK_DB"]

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.database.rows(sql, params)

    def write(self, sql: str, params: tuple = ()) -> None:
        self.database.write(sql, params)

    # -- Slack ------------------------------------------------------------------------------

    def _key(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def command(
        self, text: str, *, user: str = ADMIN, team: str | None = None, wait: bool = True
    ) -> dict | str:
        """Run `/integrations <text>`; the private reply (or its response_url key)."""
        key = self._key("c")
        body = slash_command(
            text,
            user_id=user,
            team_id=team or self.slack.team_id,
            response_url=self.slack.response_url(key),
        )
        response = self.post_signed(body)
        assert response.status_code == 200, (response.status_code, response.text)
        return self.slack.wait_for_response(key, timeout=10).args if wait else key

    def post_signed(
        self, body: str, *, content_type: str = "application/x-www-form-urlencoded", **headers
    ) -> httpx.Response:
        """POST /slack/events signed as Slack signs it (extra headers added after signing)."""
        signed = signed_headers(SIGNING_SECRET, body, content_type=content_type)
        return self.http.post(
            f"{self.url}/slack/events", content=body.encode(), headers={**signed, **headers}
        )

    def interact(self, payload: dict, *, user: str = ADMIN, team: str | None = None):
        """Send an interaction payload (block_actions, view_submission, ...) from a user."""
        team = team or self.slack.team_id
        key = self._key("a")
        payload = {
            "team": {"id": team},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A0001",
            "trigger_id": "1.2.3",
            "response_url": self.slack.response_url(key),
            **payload,
        }
        return self.post_signed(interactive(payload)), key

    def click(
        self,
        action_id: str,
        value: str | None = None,
        *,
        user: str = ADMIN,
        team: str | None = None,
        selected: str | None = None,
        block_id: str = "b",
    ) -> tuple[httpx.Response, str]:
        action = {
            "action_id": action_id,
            "block_id": block_id,
            "type": "static_select" if selected is not None else "button",
            "action_ts": "1.2",
        }
        if value is not None:
            action["value"] = value
        if selected is not None:
            action["selected_option"] = {"value": selected}
        return self.interact(
            {
                "type": "block_actions",
                "channel": {"id": "C0001"},
                "container": {"type": "message", "message_ts": "1.1"},
                "actions": [action],
            },
            user=user,
            team=team,
        )

    def reply(self, key: str, timeout: float = 10.0) -> dict:
        return self.slack.wait_for_response(key, timeout=timeout).args

    def connect(self, provider: str = "xero", *, team: str | None = None) -> httpx.Response:
        """Connect `team` to `provider` through the login page, and wait for the first sync."""
        team = team or self.slack.team_id
        reply = self.command(f"connect {provider}", team=team)
        link = element(blocks_of(reply), "connection_open_provider_login")["url"]
        page = follow_login(self.server, link)
        assert page.status_code == 200, page.text
        wait_until(
            lambda: self.rows(
                "SELECT count(*) FROM sync_runs JOIN connections c ON c.id = connection_id "
                "WHERE c.team_id = ? AND result = 'ok'",
                (team,),
            )[0][0],
            f"first sync of {team}",
        )
        return page

    def prompt(self, item_id: int, timeout: float = 10.0) -> dict:
        """The supplier prompt posted for an item."""

        def find(fake):
            for call in fake.calls_to("chat.postMessage"):
                if "is not a supplier" not in call.args.get("text", ""):
                    continue
                blocks = blocks_of(call.args)
                if f"Item #{item_id} " in json.dumps(blocks):
                    return {**call.args, "blocks": blocks}
            return None

        return self.slack.wait_for(find, timeout)

    # -- the items API ----------------------------------------------------------------------

    def api_token(self, team: str | None = None) -> str:
        """The team's API token, made with `ledgerlink token create` the first time."""
        team = team or self.slack.team_id
        with self._token_lock:
            if team not in self.api_tokens:
                self.api_tokens[team] = create_api_token(self.env, team)
            return self.api_tokens[team]

    def post_item(self, *, team: str | None = None, **fields) -> httpx.Response:
        """POST /api/items; the total is unique unless given, so no item looks a duplicate."""
        self._n += 1
        body = {"date": "2026-11-20", "total": f"{self._n}.01", "channel": "C0001", **fields}
        return self.http.post(
            f"{self.url}/api/items",
            json=body,
            headers={"Authorization": f"Bearer {self.api_token(team)}"},
        )

    def item(self, item_id: int, *, team: str | None = None) -> dict:
        response = self.http.get(
            f"{self.url}/api/items/{item_id}",
            headers={"Authorization": f"Bearer {self.api_token(team)}"},
        )
        assert response.status_code == 200, response.text
        return response.json()

    def wait_item(self, item_id: int, *statuses: str, team: str | None = None, timeout=20.0):
        """The item once its status is one of `statuses`. "queued" stands for an item waiting
        for a later retry: `ready` with its next attempt set (a `ready` item without one has
        not been tried yet, so waiting for plain `ready` could catch it before the failure)."""

        def reached(item: dict) -> bool:
            queued = item["status"] == "ready" and item["next_attempt_at"] is not None
            return item["status"] in statuses or ("queued" in statuses and queued)

        return wait_until(
            lambda: (lambda d: d if reached(d) else None)(self.item(item_id, team=team)),
            f"item {item_id} in {statuses}",
            timeout,
        )
