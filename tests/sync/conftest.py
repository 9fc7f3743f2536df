"""Fixtures: a store on a temp file, a fixed clock, the fake provider, and the app's services
wired to the fake Slack server (built in-process with `create_app`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.fernet import Fernet
from slack_sdk import WebClient

from bot.app import create_app
from bot.clock import FixedClock
from bot.config import Config
from store import open_store
from tests.conftest import ADMIN, SIGNING_SECRET, started_slack
from tests.sync.fakes import NOW, FakeProvider, tokens


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def secret_key():
    return Fernet.generate_key().decode()


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "ledgerlink.db")


@pytest.fixture
def store(db_path, secret_key, clock):
    s = open_store(db_path, secret_key=secret_key, clock=clock)
    yield s
    s.close()


@pytest.fixture
def provider():
    fake = FakeProvider()
    yield fake
    fake.release()


@pytest.fixture
def config(fake_slack, db_path):
    return Config(
        slack_bot_token=fake_slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        db_path=db_path,
    )


@pytest.fixture
def app(config, store, provider, clock, fake_slack):
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-work")
    client = WebClient(base_url=fake_slack.api_url, token=fake_slack.bot_token)
    application = create_app(
        config,
        store=store,
        providers={"xero": provider},
        clock=clock,
        client=client,
        listener_executor=executor,
    )
    yield application
    provider.release()
    executor.shutdown(wait=True)


@pytest.fixture
def deps(app):
    return app.deps


def make_connection(
    store,
    *,
    team_id="T0001",
    provider="xero",
    tenant_name="Acme Ltd",
    lifetime_days=365,
    token_set=None,
):
    """A connection saved in `store` (its workspace too), connected by ADMIN in C0001."""
    store.ensure_workspace(team_id)
    return store.create_connection(
        team_id=team_id,
        provider=provider,
        tenant_id=f"tenant-{team_id}",
        tenant_name=tenant_name,
        tokens=token_set or tokens(),
        connected_by=ADMIN,
        channel_id="C0001",
        lifetime_days=lifetime_days,
    )


@pytest.fixture
def connection(store, fake_slack):
    return make_connection(store, team_id=fake_slack.team_id)


@pytest.fixture(scope="session")
def _shared_slack():
    fake = started_slack()
    yield fake
    fake.stop()


@pytest.fixture
def fake_slack(_shared_slack):
    """The fake Slack server, shared by these tests (stopping one takes half a second) and
    emptied before each."""
    with _shared_slack._lock:
        _shared_slack.calls.clear()
        _shared_slack.responses.clear()
        _shared_slack._failures.clear()
        _shared_slack.refused.clear()
    yield _shared_slack
    _shared_slack.assert_nothing_malformed()
