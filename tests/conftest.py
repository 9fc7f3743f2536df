"""Shared fixtures: a clean environment for every test, the fake Slack server, `serve`."""

from __future__ import annotations

import logging
import os

import pytest
from cryptography.fernet import Fernet

from bot.logsetup import QUIETED as QUIETED_LOGGERS
from tests.fakes.databases import TestDatabase, fresh_database
from tests.fakes.process import ServeCluster, ServeProcess
from tests.fakes.slack import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode

PREFIXES = ("SLACK_", "LEDGERLINK_", "XERO_", "QBO_")
SIGNING_SECRET = "test-signing-secret-8f2a91c4"
ADMIN, STAFF = "UADMIN", "USTAFF"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch):
    """Keep the developer's real Slack/provider settings out of every test."""
    for key in list(os.environ):
        if key.startswith(PREFIXES):
            monkeypatch.delenv(key)


@pytest.fixture(autouse=True)
def restore_logging():
    """Put logging back as it was after each test: a test that runs the CLI in process has
    `bot.logsetup.configure` point the root logger at the test's captured stderr, which is
    closed once the test ends, so a later log line from any thread would fail to write."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quieted = {name: logging.getLogger(name).level for name in QUIETED_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, was in quieted.items():
        logging.getLogger(name).setLevel(was)


def started_slack() -> FakeSlack:
    """A started fake Slack with its two users: ADMIN (an admin) and STAFF."""
    fake = FakeSlack().start()
    fake.add_user(ADMIN, admin=True, name="Alex Admin")
    fake.add_user(STAFF, name="Sam Staff")
    return fake


@pytest.fixture
def fake_slack():
    fake = started_slack()
    yield fake
    fake.stop()
    fake.assert_nothing_malformed()


@pytest.fixture
def socket_mode(fake_slack):
    """Slack's Socket Mode, faked on loopback; the fake Web API's apps.connections.open
    hands out its URLs."""
    fake = FakeSocketMode().start()
    fake_slack.socket_mode = fake
    yield fake
    fake.stop()


@pytest.fixture
def backend(request) -> str:
    """The database backend: "sqlite", unless the test runs on both (`both_backends` from
    tests.fakes.databases parametrises this fixture)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database(backend, tmp_path) -> TestDatabase:
    """The test's own fresh database on its backend (a PostgreSQL one is dropped after)."""
    with fresh_database(backend, tmp_path) as fresh:
        yield fresh


@pytest.fixture
def database_target(database) -> str:
    """What open_store takes: a SQLite path, or a postgresql:// URL."""
    return database.target


@pytest.fixture
def database_env(database) -> dict[str, str]:
    """The variable that points a `ledgerlink serve` subprocess at the test's database."""
    return database.env


@pytest.fixture
def serve_env(fake_slack, database_env) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        **database_env,
        "LEDGERLINK_SECRET_KEY": Fernet.generate_key().decode(),
        "LEDGERLINK_PUBLIC_URL": "http://127.0.0.1:9",
    }


@pytest.fixture
def serve(serve_env, backend, tmp_path, request):
    """Start `ledgerlink serve` (env from `serve_env`) and stop it after the test. On
    PostgreSQL it is two processes behind a round-robin balancer, sharing the database: every
    end-to-end test on that backend proves that any process answers any request."""

    def start(**overrides) -> ServeProcess | ServeCluster:
        env = {k: v for k, v in {**serve_env, **overrides}.items() if v is not None}
        if backend == "postgresql":
            process = ServeCluster(env, tmp_path).start()
        else:
            process = ServeProcess(env, tmp_path).start()
        # Stopped first when the test ends, before the fakes it talks to: a sync still running
        # against a fake Xero already gone would retry for seconds before the process exits.
        request.node.addfinalizer(process.stop)
        return process

    return start
