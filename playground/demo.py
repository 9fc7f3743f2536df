"""`ledgerlink demo`: the offline playground, in one process, on 127.0.0.1.

It serves, on one port:

* ledgerlink itself, built exactly as `ledgerlink serve` builds it (`Runtime`: the Bolt app,
  `/slack/events`, `/oauth/{provider}/callback`, the items API, `/healthz`, the scheduler),
  with one more provider: Sandbox Books;
* Sandbox Books under `/sandbox` (`playground.ledger`), the accounting software, with its
  data in `<db>.sandbox.db` beside the demo database;
* the playground under `/playground` (`playground.ui`): the Slack Web API the app calls
  (`SLACK_API_URL`), response URLs, and the chat page that plays the Slack client.

Slack credentials are made up for each run (bot token, signing secret), and the demo never
reads Slack or provider settings from the environment, so it cannot reach a real workspace.
Everything between the parts goes over HTTP, as it would between real services.

Once an organisation is connected and its first sync is done, a few sample items arrive through
the items API (once per organisation: they carry external ids).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from datetime import timedelta

import flask
import httpx

from bot import logsetup
from bot.clock import SystemClock
from bot.config import Config
from bot.http import HttpApp
from bot.runtime import Runtime
from bot.scheduler import SchedulerThread
from playground.ledger import SandboxLedger
from playground.ledger_data import HARBOUR, NORTHWIND
from playground.ledger_store import LedgerStore, sandbox_db_path
from playground.sandbox_provider import SandboxProvider, SandboxSettings
from playground.slack_client import SlackClient
from playground.slack_workspace import CHANNEL, STAFF, TEAM_ID, SlackWorkspace
from playground.ui import Playground

log = logging.getLogger("ledgerlink.demo")

DEFAULT_DB = "./ledgerlink-demo.db"
DEFAULT_PORT = 3000
HOST = "127.0.0.1"
FIRST_SYNC_WAIT_SECONDS = 60.0

# Per organisation: one supplier it knows (published at once), one close to a known one (a
# prompt with suggestions), one it has never heard of (a prompt to create it).
SAMPLES = {
    HARBOUR.id: [
        ("Bean Brothers Coffee Roasters", "86.40", "BB-2291", "Coffee beans, 6 kg"),
        ("Freshfields Produce", "132.75", "FF-4410", "Vegetables and herbs"),
        ("Harbour Lane Window Cleaning", "60.00", "WC-07", "Front windows, monthly"),
    ],
    NORTHWIND.id: [
        ("Adobe Systems Software Ireland", "56.98", "ADB-7781", "Creative Cloud, monthly"),
        ("Typeface Foundary", "240.00", "TF-3310", "Display font licence"),
        ("Riverside Camera Hire", "180.00", "RCH-55", "Camera kit for the shoot"),
    ],
}


class PortUnavailable(Exception):
    """The port is taken (or not ours to use)."""


class Samples:
    """Sends the sample items of a newly connected organisation through the items API."""

    def __init__(self, store, base_url: str, clock):
        self.store = store
        self.base_url = base_url
        self.clock = clock
        self._token: str | None = None
        self._lock = threading.Lock()

    def on_connected(self, connection) -> None:
        if connection.tenant_id in SAMPLES:
            threading.Thread(
                target=self._send, args=(connection,), name="demo-samples", daemon=True
            ).start()

    def _send(self, connection) -> None:
        deadline = time.monotonic() + FIRST_SYNC_WAIT_SECONDS
        while self.store.latest_sync_run(connection.id, "ok") is None:
            if time.monotonic() > deadline:
                log.warning("no sync finished; the sample items were not sent")
                return
            time.sleep(0.25)
        with self._lock:
            if self._token is None:
                self._token = self.store.create_api_token(TEAM_ID, "playground samples")[1]
        today = self.clock.now().date()
        with httpx.Client(timeout=30) as http:
            for number, (supplier, total, reference, description) in enumerate(
                SAMPLES[connection.tenant_id], 1
            ):
                http.post(
                    f"{self.base_url}/api/items",
                    headers={"Authorization": f"Bearer {self._token}"},
                    json={
                        "supplier": supplier,
                        "date": (today - timedelta(days=number)).isoformat(),
                        "total": total,
                        "currency": "GBP",
                        "reference": reference,
                        "description": description,
                        "channel": CHANNEL,
                        "submitted_by": STAFF,
                        "external_id": f"playground-sample-{connection.tenant_id}-{number}",
                    },
                )


def run(*, port: int = DEFAULT_PORT, db_path: str = DEFAULT_DB, out=None) -> int:
    out = out or sys.stdout
    _forget_slack_settings(os.environ)
    from bot.server import Server  # waitress: only needed to serve

    _check_port(port)
    routes = HttpApp([])  # filled below, once what the routes need exists
    try:
        server = Server(routes, host=HOST, port=port)
    except OSError as error:
        raise PortUnavailable(f"--port {port}: {error.strerror or error}") from None
    base = server.url
    clock = SystemClock()
    workspace = SlackWorkspace(base_url=base)
    ledger = SandboxLedger(
        LedgerStore(sandbox_db_path(db_path)), clock=clock, base_url=f"{base}/sandbox"
    )
    client_id, client_secret = ledger.register_client(f"{base}/oauth/sandbox/callback")
    config = Config(
        slack_bot_token=workspace.bot_token,
        slack_signing_secret=workspace.signing_secret,
        slack_api_url=workspace.api_url,
        db_path=db_path,
        public_url=base,
    )
    logsetup.configure([workspace.bot_token, workspace.signing_secret, client_secret])
    logging.getLogger("ledgerlink.http").setLevel(logging.WARNING)  # the page polls twice a second
    slack_http = httpx.Client()
    playground = Playground(workspace, SlackClient(workspace, f"{base}/slack/events", slack_http))
    own = [_home(), playground.blueprint(), ledger.blueprint()]
    routes.blueprints = own  # the Slack Web API must answer while the app starts (auth.test)
    thread = threading.Thread(target=server.serve, name="demo-server", daemon=True)
    thread.start()
    runtime = _runtime(config, clock, SandboxSettings(f"{base}/sandbox", client_id, client_secret))
    try:
        app = runtime.start_app()
        samples = Samples(runtime.store, base, clock)
        app.deps.events.on_restored(samples.on_connected)
        routes.blueprints = own + runtime.blueprints()
        sender, jobs = runtime.start_sender()
        scheduler = SchedulerThread(jobs, clock)
        scheduler.start()
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        print(f"ledgerlink demo listening on {base}", file=out)
        print(f"  the playground (Slack):       {base}/playground", file=out)
        print(f"  Sandbox Books (accounting):   {base}/sandbox", file=out)
        print(f"  data: {db_path} and {sandbox_db_path(db_path)}", file=out)
        print("Press Ctrl-C to stop.", file=out, flush=True)
        stopping.wait()
        print("stopping…", file=out, flush=True)
        server.stop()
        thread.join(15)
        scheduler.stop()
        sender.stop()
    finally:
        runtime.close()
        slack_http.close()
        ledger.store.close()
    return 0


def _forget_slack_settings(environ) -> None:
    """Bolt and slack_sdk fall back on SLACK_* variables for what they are not given (with
    SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, Bolt even turns on its own OAuth flow); the demo's
    Slack is the playground, so its process forgets the real ones."""
    for name in [name for name in environ if name.startswith("SLACK_")]:
        del environ[name]


def _check_port(port: int) -> None:
    """Say plainly when the port is taken (waitress would fail less tidily)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise PortUnavailable(f"--port {port}: {error.strerror or error}") from None


def _runtime(config: Config, clock, sandbox: SandboxSettings) -> Runtime:
    """ledgerlink as `ledgerlink serve` opens it, with one provider more: Sandbox Books."""

    def sandbox_provider(http_client, clock):
        return {"sandbox": SandboxProvider(config, sandbox, http_client=http_client, clock=clock)}

    return Runtime.open(config, clock=clock, extra_providers=sandbox_provider)


def _home() -> flask.Blueprint:
    """`/` sends the browser to the playground."""
    home = flask.Blueprint("demo", __name__)

    @home.get("/")
    def to_playground():
        headers = {"Location": "/playground"}
        return flask.Response(status=302, headers=headers, mimetype="text/plain")

    return home
