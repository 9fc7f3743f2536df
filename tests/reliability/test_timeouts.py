"""Provider timeouts, in process: the real services and the real Xero client over a transport
that times out on command, so no test waits out the 20-second production timeout.

A timeout reaches the provider client as the same `httpx` exception whether it comes from a
socket or from this transport, so what is proven here holds for the server end to end.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import timedelta

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.clock import FixedClock
from bot.config import Config, ProviderCredentials
from bot.item_input import parse_item
from bot.items import ItemService
from bot.sync import SyncService
from handlers.render import render
from providers.http import Timing
from providers.xero import XeroProvider
from store import Grant, open_store
from tests.providers import fake_xero
from tests.providers.conftest import NOW, token_set
from tests.providers.fake_xero import FakeXero

API = "/api.xro/2.0"


class TimingOut:
    """Wraps a fake's handler: the next requests to a path raise the given httpx timeouts."""

    def __init__(self, handle):
        self.handle = handle
        self.script: dict[str, list[type[Exception]]] = defaultdict(list)
        self.raised = 0

    def fail(self, path: str, *errors: type[Exception]) -> None:
        self.script[path].extend(errors)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.script.get(request.url.path):
            self.raised += 1
            raise self.script[request.url.path].pop(0)("timed out", request=request)
        return self.handle(request)


class Posted:
    """A notifier that records messages instead of posting them."""

    render = staticmethod(render)

    def __init__(self):
        self.messages: list[str] = []

    def post(self, team_id, channel, message, *, thread_ts=None, fallback_user=None):
        self.messages.append(message["text"])
        return len(self.messages)

    def show_item(self, item, message, *, prompt=False):
        self.messages.append(message["text"])

    def transaction(self):
        return contextlib.nullcontext()

    def direct(self, team_id, user_id, message):
        return self.post(team_id, user_id, message)

    def tell_admins(self, team_id, connection, message):
        self.messages.append(message["text"])
        return True


class Inline:
    def submit(self, fn, *args, **kwargs):
        fn(*args, **kwargs)


@pytest.fixture
def world(tmp_path):
    clock = FixedClock(NOW)
    fake = FakeXero(now=NOW)
    fake.add_contacts(1, Name="Costa Coffee Ltd")
    transport = TimingOut(fake.handle)
    config = Config(
        public_url="https://ledgerlink.test",
        xero=ProviderCredentials(fake_xero.CLIENT_ID, fake_xero.CLIENT_SECRET),
        xero_login_url="https://login.xero.test",
        xero_identity_url="https://identity.xero.test",
        xero_api_url="https://api.xero.test",
    )
    http = httpx.Client(transport=httpx.MockTransport(transport))
    xero = XeroProvider(config, http_client=http, clock=clock, timing=Timing(sleep=lambda _: None))
    store = open_store(str(tmp_path / "l.db"), secret_key=Fernet.generate_key().decode())
    store.clock = clock
    store.ensure_workspace("T1")
    access, refresh = fake.grant()
    connection = store.create_connection(
        team_id="T1",
        provider="xero",
        grant=Grant(
            tenant_id=fake.tenant_id,
            tenant_name="Demo",
            tokens=token_set(access, refresh, expires_at=NOW + timedelta(minutes=30)),
            connected_by="UADMIN",
            channel_id="C1",
            lifetime_days=365,
        ),
    )
    common = {
        "config": config,
        "store": store,
        "providers": {"xero": xero},
        "clock": clock,
        "notifier": Posted(),
        "executor": Inline(),
    }
    sync = SyncService(**common, sleep=lambda _: None)
    items = ItemService(**common)
    yield fake, transport, store, sync, items, connection
    store.close()
    http.close()


def suppliers(store, connection) -> set[str]:
    return {r.name for r in store.active_records(connection.id, "supplier")}


def test_sync_retries_timeouts_and_keeps_the_lists_when_they_persist(world):
    """Read and connect timeouts within the retries are absorbed and the sync succeeds; four
    in a row fail the run (to be retried later) and the lists stay as they were."""
    fake, transport, store, sync, _, connection = world
    transport.fail(f"{API}/Contacts", httpx.ReadTimeout, httpx.ConnectTimeout)
    assert sync.run(connection.id).ok
    before = suppliers(store, connection)
    assert "Costa Coffee Ltd" in before
    fake.add_contacts(1, Name="Timed Out Traders")
    transport.fail(f"{API}/Contacts", *[httpx.ReadTimeout] * 4)
    failed = sync.run(connection.id)
    assert not failed.ok and failed.retry_at is not None and "ReadTimeout" in failed.error
    assert suppliers(store, connection) == before
    assert transport.raised == 6


def test_publishing_through_timeouts_publishes_once(world):
    """A bill whose request times out four times is queued, not failed; the retry job then
    publishes it, and a token refresh that times out once is retried: one bill in Xero."""
    fake, transport, store, sync, items, connection = world
    assert sync.run(connection.id).ok
    data, errors = parse_item({"supplier": "Costa Coffee Ltd", "date": "2026-11-20", "total": 9})
    assert not errors
    transport.fail(f"{API}/Invoices", *[httpx.ReadTimeout] * 4)
    item, _ = items.submit("T1", data, source="api")
    queued = store.item(item.id)
    assert queued.status == "ready" and "ReadTimeout" in queued.last_error
    fake.expire_access_tokens()
    transport.fail("/connect/token", httpx.ConnectTimeout)
    items.clock = store.clock = FixedClock(NOW + timedelta(minutes=10))
    assert items.run_due(NOW + timedelta(minutes=10)) == 1
    assert store.item(item.id).status == "published"
    assert len(fake.invoices) == 1
