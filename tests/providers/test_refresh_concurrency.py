"""Two workers needing a refresh of the same stored connection make exactly one token call.

Refresh tokens rotate on every use, so a second refresh with the same token would be refused
and the connection lost; the store's lease lock and version check prevent it, across threads
and across OS processes sharing one SQLite file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from providers.base import TokenSet
from store import open_store
from tests.fakes.databases import both_backends
from tests.fakes.loopback import Served
from tests.providers.conftest import token_set
from tests.providers.refresh_worker import CountingTokenStore
from tests.sync.conftest import make_connection

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("refresh_worker.py")


def store_connection(store, tokens: TokenSet) -> int:
    return make_connection(store, team_id="T1", token_set=tokens).id


@pytest.mark.parametrize("why", ["access token lapsing", "access token rejected"])
def test_two_threads_refresh_once(why, sqlite_store, fake_xero_server, xero, clock):
    """Two threads that both ask for fresh tokens (ahead of expiry, or after a 401) cause one
    token call; both finish with the newest tokens, which are the ones stored."""
    access, refresh = fake_xero_server.grant()
    if why == "access token lapsing":
        expires = clock.now() + timedelta(seconds=30)
    else:
        expires = clock.now() + timedelta(minutes=20)
        fake_xero_server.expire_access_tokens()
    connection_id = store_connection(sqlite_store, token_set(access, refresh, expires_at=expires))
    fake_xero_server.token_delay = 0.3  # so the second thread arrives while the first refreshes
    start = threading.Barrier(2)
    results, errors, stores = [], [], []

    def work():
        tokens = CountingTokenStore(sqlite_store, connection_id)
        stores.append(tokens)
        session = xero.session(fake_xero_server.tenant_id, tokens)
        start.wait()
        try:
            fetch = session.fetch_list("tax_rate", None)
            results.append([record for page in fetch.pages for record in page])
        except Exception as error:  # reported below, with the thread's own failure
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == [] and len(results) == 2
    assert [tokens.refresh_requests for tokens in stores] == [1, 1]
    assert fake_xero_server.token_calls == 1
    stored = sqlite_store.connection_tokens(connection_id)
    latest = fake_xero_server.latest
    assert (stored.access_token, stored.refresh_token) == (
        latest["access_token"],
        latest["refresh_token"],
    )
    successful = [
        r
        for r in fake_xero_server.api_requests("TaxRates")
        if r.headers["Authorization"] == f"Bearer {latest['access_token']}"
    ]
    assert len(successful) == 2


class LoopbackXero(Served):
    """A tiny real HTTP server standing in for Xero's token endpoint and /TaxRates.

    It rotates the refresh token on every use (a reused one gets invalid_grant), counts token
    calls, and takes `delay` seconds to answer one, so two workers overlap.
    """

    def __init__(self, refresh_token: str, *, delay: float = 0.5):
        self.refresh_token = refresh_token
        self.access_token: str | None = None
        self.token_calls = 0
        self.bearers: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()
        self._serve(ThreadingHTTPServer(("127.0.0.1", 0), self._handler()))

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with server._lock:
                    server.token_calls += 1
                time.sleep(server.delay)
                with server._lock:
                    if form.get("refresh_token") != server.refresh_token:
                        return self._send(400, {"error": "invalid_grant"})
                    n = server.token_calls
                    server.access_token = f"loopback-access-{n}"
                    server.refresh_token = f"loopback-refresh-{n}"
                    self._send(
                        200,
                        {
                            "access_token": server.access_token,
                            "refresh_token": server.refresh_token,
                            "expires_in": 1800,
                            "token_type": "Bearer",
                        },
                    )

            def do_GET(self):
                bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                with server._lock:
                    server.bearers.append(bearer)
                    ok = bearer == server.access_token
                if not ok:
                    return self._send(401, {"Title": "Unauthorized", "Detail": "TokenExpired"})
                self._send(
                    200,
                    {
                        "TaxRates": [
                            {"Name": "GST on Expenses", "TaxType": "INPUT2", "Status": "ACTIVE"}
                        ]
                    },
                )

        return Handler


@pytest.fixture
def shared_store(database_target, clock, store_key):
    """A migrated store with one workspace, "T1", on the test's database (either backend)."""
    store = open_store(database_target, secret_key=store_key, clock=clock)
    store.ensure_workspace("T1", team_name="Test team")
    yield store
    store.close()


@both_backends
def test_two_processes_refresh_once(shared_store, store_key, tmp_path, database_target):
    """Two OS processes sharing the store, both holding a lapsed access token and both asking
    for a refresh, make one token call between them and both read with the newest access
    token."""
    expired = datetime.now(UTC) - timedelta(minutes=1)
    connection_id = store_connection(
        shared_store, token_set("stale-access", "first-refresh", expires_at=expired)
    )
    go = tmp_path / "go"
    with LoopbackXero("first-refresh") as server:
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    database_target,
                    store_key,
                    str(connection_id),
                    server.url,
                    str(tmp_path / f"ready-{n}"),
                    str(go),
                ],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(2)
        ]
        try:
            deadline = time.monotonic() + 30
            while not all((tmp_path / f"ready-{n}").exists() for n in range(2)):
                assert time.monotonic() < deadline, "workers did not start"
                assert all(w.poll() is None for w in workers), workers[0].communicate()
                time.sleep(0.01)
            go.touch()
            outputs = [worker.communicate(timeout=30) for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.communicate()

    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert out.split() == ["1", "needed-refresh"]
    assert server.token_calls == 1
    stored = shared_store.connection_tokens(connection_id)
    assert (stored.access_token, stored.refresh_token) == (
        "loopback-access-1",
        "loopback-refresh-1",
    )
    assert server.bearers == ["loopback-access-1", "loopback-access-1"]
