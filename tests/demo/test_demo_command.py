"""`ledgerlink demo`: one process serving the app, Sandbox Books and the playground; the
sandbox only ever there; and the README's quick start leading with it."""

from __future__ import annotations

import html
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.clock import SystemClock
from bot.config import Config
from handlers import connection_messages
from handlers.grammar import Command, parse
from playground.slack_workspace import ADMIN, CHANNEL
from providers.registry import build_providers
from tests.demo.conftest import DemoProcess

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


class Playground:
    """The chat page's own calls, made over HTTP without a browser."""

    def __init__(self, demo: DemoProcess):
        self.url = demo.url

    def do(self, action: str, **body) -> dict:
        response = httpx.post(
            f"{self.url}/playground/ui/{action}",
            json={"user": ADMIN, **body},
            headers={"X-Playground": "1"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def messages(self) -> list[str]:
        state = httpx.get(
            f"{self.url}/playground/ui/state", params={"user": ADMIN, "place": CHANNEL}, timeout=10
        ).json()
        return [item["html"] for item in state["items"]]

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages()):
                if text in message:
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no message saying {text!r} in {self.messages()}")

    def type(self, text: str) -> None:
        self.do("type", channel=CHANNEL, text=text)


def connect(playground: Playground) -> None:
    """Connect Sandbox Books as an admin would, the browser's part played by httpx."""
    playground.type("/integrations connect sandbox")
    link = html.unescape(
        re.search(r'data-url="([^"]+)"', playground.wait_for("Log in to")).group(1)
    )
    page = httpx.get(link, timeout=10)
    consent = re.search(r'name="consent" value="([^"]+)"', page.text).group(1)
    orgs = re.findall(r'name="org" value="([^"]+)"', page.text)
    answer = httpx.post(
        link.split("?")[0], data={"consent": consent, "decision": "allow", "org": orgs}, timeout=10
    )
    callback = httpx.get(answer.headers["location"], timeout=30)
    assert callback.status_code == 200 and "Choose the organisation in Slack" in callback.text
    chooser = playground.wait_for("Choose the organisation to connect")
    ts = re.search(r'data-ts="([^"]+)"', chooser).group(1)
    select = re.search(r'<select[^>]*data-block-id="([^"]+)" data-action-id="([^"]+)"', chooser)
    value = re.search(r'<option value="([^"]+)">Harbour Lane Café Ltd</option>', chooser).group(1)
    playground.do(
        "act",
        where={"channel": CHANNEL, "ts": ts},
        block_id=select.group(1),
        action_id=select.group(2),
        choice=value,
    )
    playground.wait_for("Connected to Sandbox Books — <b>Harbour Lane Café Ltd</b>")


def test_the_demo_serves_everything_on_one_port(demo):
    """The demo prints its URL and serves the chat page (with a script-only-from-self policy),
    its assets, Sandbox Books and ledgerlink's own routes, on 127.0.0.1."""
    assert demo.url.startswith("http://127.0.0.1:")
    printed = demo.out.read_text()
    assert f"{demo.url}/playground" in printed and f"{demo.url}/sandbox" in printed
    root = httpx.get(demo.url)
    assert root.status_code == 302 and root.headers["location"] == "/playground"
    page = httpx.get(f"{demo.url}/playground")
    assert page.status_code == 200 and "composer-input" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for asset in ("playground.js", "playground.css"):
        assert httpx.get(f"{demo.url}/playground/static/{asset}").status_code == 200
    assert "Harbour Lane Café Ltd" in httpx.get(f"{demo.url}/sandbox").text
    assert httpx.get(f"{demo.url}/healthz").json() == {"ok": True}
    unsigned = httpx.post(f"{demo.url}/slack/events", content=b"command=/integrations")
    assert unsigned.status_code == 401


def test_the_page_only_api_refuses_cross_site_requests(demo):
    """The playground's actions and the sandbox's controls need headers a form can't send."""
    assert httpx.post(f"{demo.url}/playground/ui/type", json={"user": ADMIN}).status_code == 403
    assert httpx.post(f"{demo.url}/sandbox/control/revoke").status_code == 403


def test_the_connection_and_the_ledger_survive_a_restart(demo, tmp_path):
    """After a restart (new port, new secrets) the connection still works: status shows it,
    and a refresh talks to Sandbox Books with the stored tokens; sample items arrived."""
    playground = Playground(demo)
    connect(playground)
    playground.wait_for("Bean Brothers Coffee Roasters Ltd")  # a sample item, published
    playground.wait_for("<b>Harbour Lane Window Cleaning</b> is not a supplier")
    demo.stop()
    assert (tmp_path / "demo.db").exists() and (tmp_path / "demo.sandbox.db").exists()
    again = DemoProcess(tmp_path).start()
    try:
        playground = Playground(again)
        playground.type("/integrations status")
        playground.wait_for("Connected: Sandbox Books — <b>Harbour Lane Café Ltd</b>")
        playground.type("/integrations refresh")
        playground.wait_for("Refreshed Sandbox Books data for <b>Harbour Lane Café Ltd</b>")
    finally:
        again.stop()


def test_a_taken_port_is_a_usage_error(tmp_path):
    """`ledgerlink demo --port P` on a port in use exits 2 with one line saying so."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bot", "demo", "--port", str(port), "--db", "d.db"],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ledgerlink: --port {port}:")


def test_the_demo_reads_no_settings_from_the_environment(tmp_path):
    """Malformed Slack and ledgerlink variables don't stop the demo, and real-looking Slack
    app credentials don't switch its Slack app to a real workspace's OAuth installs: a
    command typed in the playground is still answered with the demo's own token."""
    demo = DemoProcess(
        tmp_path,
        env={
            "SLACK_BOT_TOKEN": "not-a-bot-token",
            "SLACK_APP_TOKEN": "not-an-app-token",
            "SLACK_API_URL": "slack.example.org",
            "SLACK_SIGNING_SECRET": "a-real-workspace-signing-secret",
            "SLACK_CLIENT_ID": "111.222",
            "SLACK_CLIENT_SECRET": "a-real-client-secret",
            "LEDGERLINK_SECRET_KEY": "hunter2",
            "LEDGERLINK_SYNC_INTERVAL_HOURS": "soon",
            "XERO_CLIENT_ID": "an-id-without-its-secret",
        },
    ).start()
    try:
        playground = Playground(demo)
        playground.type("/integrations status")
        playground.wait_for("Not connected")
    finally:
        assert demo.stop() == 0


def test_the_sandbox_is_never_built_from_settings():
    """The product's registry never builds the sandbox provider (only the playground adds it):
    no configuration, however complete, does."""
    config = Config.from_env({"XERO_CLIENT_ID": "a", "XERO_CLIENT_SECRET": "b"})
    with httpx.Client() as http:
        providers = build_providers(config, http_client=http, clock=SystemClock())
    assert set(providers) == {"xero"}


def test_connect_sandbox_on_a_server_without_it_says_where_it_lives():
    """`/integrations connect sandbox` parses, and a server without the sandbox says it only
    runs in the demo (instead of failing)."""
    assert parse("connect sandbox") == Command("connect", ("sandbox",))
    message = connection_messages.not_configured("sandbox", "https://books.example.org")
    assert "`ledgerlink demo`" in message["text"]


def test_the_readme_quick_start_leads_with_the_demo():
    """The Quick start's first command installs and starts the demo, its second is the test
    command that `.ci/run` runs exactly (and nothing else), and `ledgerlink serve` is
    explained between them."""
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", quick_start, re.S)
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/ledgerlink demo",
        "bash scripts/test",
    ]
    serve = quick_start.index(".venv/bin/ledgerlink serve")
    assert quick_start.index(commands[0]) < serve < quick_start.index(commands[1])
    ci = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ci == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', f"exec {commands[1]}"]
