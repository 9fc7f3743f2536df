"""Fixtures for the provider tests: fake Xero and QuickBooks behind `httpx.MockTransport`,
providers wired to them with a fixed clock and a fake sleep, and token stores."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.clock import FixedClock
from bot.config import Config, ProviderCredentials
from providers.base import TokenSet
from providers.http import RetryPolicy, Timing
from providers.quickbooks import QuickBooksProvider
from providers.xero import XeroProvider
from store import open_store
from tests.providers import fake_quickbooks, fake_xero
from tests.providers.fake_quickbooks import FakeQuickBooks
from tests.providers.fake_xero import FakeXero

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


class FakeTime:
    """A monotonic clock that only moves when something sleeps; sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class MemoryTokenStore:
    """`providers.base.TokenStore` in memory, with the same contract as the SQLite one."""

    def __init__(self, tokens: TokenSet):
        self.tokens = tokens
        self.refreshes = 0
        self._lock = threading.Lock()

    def current(self) -> TokenSet:
        return self.tokens

    def refresh_with(self, used: TokenSet, refresh: Callable[[TokenSet], TokenSet]) -> TokenSet:
        with self._lock:
            if self.tokens.version != used.version:
                return self.tokens
            fresh = refresh(self.tokens)
            self.refreshes += 1
            self.tokens = TokenSet(
                access_token=fresh.access_token,
                refresh_token=fresh.refresh_token,
                access_expires_at=fresh.access_expires_at,
                refresh_expires_at=fresh.refresh_expires_at,
                scope=fresh.scope,
                version=self.tokens.version + 1,
            )
            return self.tokens


def token_set(access: str, refresh: str, *, expires_at: datetime) -> TokenSet:
    return TokenSet(access_token=access, refresh_token=refresh, access_expires_at=expires_at)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def fake_timing(fake_time: FakeTime) -> Timing:
    """Retries and rate limits on `fake_time`, with the jitter fixed at its middle."""
    return Timing(
        sleep=fake_time.sleep,
        monotonic=fake_time.monotonic,
        random=lambda: 0.5,
        retry=RetryPolicy(),
    )


@pytest.fixture
def timing(fake_time) -> Timing:
    return fake_timing(fake_time)


PUBLIC_URL = "https://ledgerlink.test"


def fake_config() -> Config:
    """Both providers set up against the fakes' hosts."""
    return Config(
        public_url=PUBLIC_URL,
        xero=ProviderCredentials(fake_xero.CLIENT_ID, fake_xero.CLIENT_SECRET),
        xero_login_url="https://login.xero.test",
        xero_identity_url="https://identity.xero.test",
        xero_api_url="https://api.xero.test",
        quickbooks=ProviderCredentials(fake_quickbooks.CLIENT_ID, fake_quickbooks.CLIENT_SECRET),
        qbo_api_url="https://quickbooks.api.intuit.test",
        qbo_auth_url="https://appcenter.intuit.test/connect/oauth2",
        qbo_token_url="https://oauth.platform.intuit.test/oauth2/v1/tokens/bearer",
    )


@pytest.fixture
def config() -> Config:
    return fake_config()


def _client_of(fake_server):
    """Yield an httpx client whose every request fake_server answers."""
    with httpx.Client(transport=httpx.MockTransport(fake_server.handle)) as client:
        yield client


def _granted(fake_server, clock, lifetime: timedelta) -> MemoryTokenStore:
    """A token store holding a pair fake_server just granted, expiring after lifetime."""
    access, refresh = fake_server.grant()
    return MemoryTokenStore(token_set(access, refresh, expires_at=clock.now() + lifetime))


# -- Xero ------------------------------------------------------------------------------------


@pytest.fixture
def fake_xero_server(clock) -> FakeXero:
    return FakeXero(now=clock.now())


@pytest.fixture
def xero_http(fake_xero_server):
    yield from _client_of(fake_xero_server)


@pytest.fixture
def xero(config, xero_http, clock, timing) -> XeroProvider:
    return XeroProvider(config, http_client=xero_http, clock=clock, timing=timing)


@pytest.fixture
def xero_tokens(fake_xero_server, clock) -> MemoryTokenStore:
    return _granted(fake_xero_server, clock, timedelta(minutes=30))


@pytest.fixture
def xero_session(xero, xero_tokens, fake_xero_server):
    return xero.session(fake_xero_server.tenant_id, xero_tokens)


# -- QuickBooks ------------------------------------------------------------------------------


@pytest.fixture
def fake_qbo_server(clock) -> FakeQuickBooks:
    return FakeQuickBooks(now=clock.now())


@pytest.fixture
def qbo_http(fake_qbo_server):
    yield from _client_of(fake_qbo_server)


@pytest.fixture
def qbo(config, qbo_http, clock, timing) -> QuickBooksProvider:
    return QuickBooksProvider(
        config,
        http_client=qbo_http,
        clock=clock,
        timing=timing,
        revoke_url=fake_quickbooks.REVOKE_URL,
    )


@pytest.fixture
def qbo_tokens(fake_qbo_server, clock) -> MemoryTokenStore:
    return _granted(fake_qbo_server, clock, timedelta(hours=1))


@pytest.fixture
def qbo_session(qbo, qbo_tokens, fake_qbo_server):
    return qbo.session(fake_qbo_server.realm_id, qbo_tokens)


# -- a real store ----------------------------------------------------------------------------


@pytest.fixture
def store_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def sqlite_store(tmp_path, clock, store_key):
    """A migrated temp-file SQLite store with one workspace, "T1"."""
    store = open_store(str(tmp_path / "ledgerlink.db"), secret_key=store_key, clock=clock)
    store.ensure_workspace("T1", team_name="Test team")
    yield store
    store.close()
