"""The provider contract, run against every provider: Xero and QuickBooks (against their fakes)
and Sandbox Books (against the real sandbox ledger, mounted on an httpx WSGI transport).

Each test states one promise `providers.base` makes to the rest of ledgerlink; a `Harness`
gives the provider-specific moves (logging in at the provider, adding a supplier there,
counting what it holds) so the assertions are the same for all three.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.clock import FixedClock
from playground.ledger import SandboxLedger
from playground.ledger_data import HARBOUR
from playground.ledger_oauth import s256
from playground.ledger_store import LedgerStore
from playground.sandbox_provider import SandboxProvider, SandboxSettings
from providers.base import (
    LIST_KINDS,
    Bill,
    BillLine,
    ConnectionExpired,
    DuplicateName,
    Provider,
    TokenSet,
)
from providers.quickbooks import QuickBooksProvider
from providers.xero import XeroProvider
from tests.providers import fake_quickbooks, fake_xero
from tests.providers.conftest import (
    NOW,
    PUBLIC_URL,
    FakeTime,
    MemoryTokenStore,
    fake_config,
    fake_timing,
)

VERIFIER = "contract-test-verifier-" + "v" * 30
PROVIDERS = ("xero", "quickbooks", "sandbox")


@dataclass
class Harness:
    """One provider wired to its counterpart, and what the contract needs to do there."""

    name: str
    provider: Provider
    tenant_id: str
    login: Callable[[], tuple[str, dict]]  # log in at the provider: (code, callback params)
    add_supplier: Callable[[str], None]  # a supplier created at the provider, not by us
    suppliers_named: Callable[[str], int]
    bill_ids: Callable[[], set[str]]
    expire_access_tokens: Callable[[], None]
    account_code: str  # an expense account bills may use
    http: httpx.Client

    def grant(self):
        code, params = self.login()
        return self.provider.exchange_code(code, code_verifier=VERIFIER, callback_params=params)

    def session(self):
        tokens = MemoryTokenStore(self.grant().tokens)
        return self.provider.session(self.tenant_id, tokens), tokens


def xero_harness(clock) -> Harness:
    fake = fake_xero.FakeXero(now=clock.now())
    http = httpx.Client(transport=httpx.MockTransport(fake.handle))

    def login():
        code = fake.issue_code(s256(VERIFIER))
        return code, {"code": code, "state": "s"}

    return Harness(
        name="xero",
        provider=XeroProvider(
            fake_config(), http_client=http, clock=clock, timing=fake_timing(FakeTime())
        ),
        tenant_id=fake.tenant_id,
        login=login,
        add_supplier=lambda name: fake.add_contacts(1, Name=name),
        suppliers_named=lambda name: sum(c["Name"] == name for c in fake.contacts),
        bill_ids=lambda: {i["InvoiceID"] for i in fake.invoices},
        expire_access_tokens=fake.expire_access_tokens,
        account_code=fake.accounts[0]["Code"],
        http=http,
    )


def quickbooks_harness(clock) -> Harness:
    fake = fake_quickbooks.FakeQuickBooks(now=clock.now())
    http = httpx.Client(transport=httpx.MockTransport(fake.handle))

    def login():
        code = fake.issue_code()
        return code, {"code": code, "state": "s", "realmId": fake.realm_id}

    return Harness(
        name="quickbooks",
        provider=QuickBooksProvider(
            fake_config(),
            http_client=http,
            clock=clock,
            timing=fake_timing(FakeTime()),
            revoke_url=fake_quickbooks.REVOKE_URL,
        ),
        tenant_id=fake.realm_id,
        login=login,
        add_supplier=lambda name: fake.add("Vendor", 1, DisplayName=name),
        suppliers_named=lambda name: sum(v["DisplayName"] == name for v in fake.entities["Vendor"]),
        bill_ids=lambda: {b["Id"] for b in fake.bills},
        expire_access_tokens=fake.expire_access_tokens,
        account_code="13",
        http=http,
    )


def sandbox_harness(clock) -> Harness:
    base = "https://sandbox.test/sandbox"
    ledger = SandboxLedger(LedgerStore(":memory:"), clock=clock, base_url=base)
    client_id, secret = ledger.register_client(f"{PUBLIC_URL}/oauth/sandbox/callback")
    http = httpx.Client(transport=httpx.WSGITransport(app=ledger.wsgi()))
    provider = SandboxProvider(
        fake_config(),
        SandboxSettings(base, client_id, secret),
        http_client=http,
        clock=clock,
        timing=fake_timing(FakeTime()),
    )

    def login():
        """The admin's browser: the consent page, both organisations shared, allowed."""
        page = http.get(provider.authorize_url("s", code_verifier=VERIFIER))
        consent = re.search(r'name="consent" value="([^"]+)"', page.text).group(1)
        orgs = re.findall(r'name="org" value="([^"]+)"', page.text)
        answer = http.post(
            f"{base}/oauth/authorize", data={"consent": consent, "decision": "allow", "org": orgs}
        )
        params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
        return params["code"], params

    return Harness(
        name="sandbox",
        provider=provider,
        tenant_id=HARBOUR.id,
        login=login,
        add_supplier=lambda name: ledger.add_supplier(HARBOUR.id, name),
        suppliers_named=lambda name: sum(
            c["Name"] == name for c in ledger.store.all(HARBOUR.id, "contacts")
        ),
        bill_ids=lambda: {b["BillID"] for b in ledger.store.all(HARBOUR.id, "bills")},
        expire_access_tokens=ledger.expire_access_tokens,
        account_code="429",
        http=http,
    )


HARNESSES = {"xero": xero_harness, "quickbooks": quickbooks_harness, "sandbox": sandbox_harness}


@pytest.fixture(params=PROVIDERS)
def harness(request):
    built = HARNESSES[request.param](FixedClock(NOW))
    yield built
    built.http.close()


def everything(fetch) -> list:
    return [record for page in fetch.pages for record in page]


# -- the grant ----------------------------------------------------------------------------------


def test_authorize_url_carries_client_callback_and_state(harness):
    """The login URL names the client, ledgerlink's callback for this provider and the state,
    with an S256 challenge when the provider uses PKCE."""
    url = harness.provider.authorize_url("state-42", code_verifier=VERIFIER)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["response_type"] == "code"
    assert query["state"] == "state-42"
    assert query["redirect_uri"] == f"{PUBLIC_URL}/oauth/{harness.name}/callback"
    assert query["client_id"]
    if harness.provider.capabilities.pkce:
        assert query["code_challenge"] == s256(VERIFIER)
        assert query["code_challenge_method"] == "S256"


def test_a_login_gives_tokens_and_the_organisations(harness):
    """Exchanging the callback's code yields usable tokens and the organisations granted."""
    grant = harness.grant()
    assert grant.tokens.access_token and grant.tokens.refresh_token
    assert grant.tokens.access_expires_at > NOW
    assert harness.tenant_id in {tenant.id for tenant in grant.tenants}
    assert all(tenant.name for tenant in grant.tenants)


def test_refreshing_gives_new_working_tokens(harness):
    """A refresh returns a new access token that the API accepts."""
    tokens = harness.grant().tokens
    fresh = harness.provider.refresh(tokens)
    assert fresh.access_token != tokens.access_token
    session = harness.provider.session(harness.tenant_id, MemoryTokenStore(fresh))
    assert everything(session.fetch_list("tax_rate", None))


def test_a_revoked_grant_means_the_connection_expired(harness):
    """After revoking, refreshing is refused as ConnectionExpired (the reconnect path)."""
    tokens = harness.grant().tokens
    harness.provider.revoke(tokens)
    with pytest.raises(ConnectionExpired):
        harness.provider.refresh(tokens)


def test_a_rejected_access_token_is_refreshed_once_and_the_call_goes_through(harness):
    """A 401 on an API call refreshes the tokens once, through the token store, and retries."""
    session, tokens = harness.session()
    harness.expire_access_tokens()
    assert everything(session.fetch_list("account", None))
    assert tokens.refreshes == 1


# -- lists --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LIST_KINDS)
def test_every_list_fetches_whole_without_a_cursor(harness, kind):
    """Without a cursor a list comes whole, of its own kind, with distinct ids and a cursor
    for next time."""
    session, _ = harness.session()
    fetch = session.fetch_list(kind, None)
    records = everything(fetch)
    assert fetch.kind == kind and fetch.full is True
    assert isinstance(fetch.cursor, str) and fetch.cursor
    assert all(record.kind == kind for record in records)
    assert len({record.remote_id for record in records}) == len(records)
    if kind in ("account", "supplier", "tax_rate"):
        assert any(record.active for record in records)


def test_a_fetch_from_the_cursor_sees_a_supplier_added_since(harness):
    """An incremental fetch from the last cursor reports a supplier added at the provider."""
    session, _ = harness.session()
    first = session.fetch_list("supplier", None)
    everything(first)
    harness.add_supplier("Contract Added Supplier")
    later = session.fetch_list("supplier", first.cursor)
    assert later.full is False
    assert "Contract Added Supplier" in {r.name for r in everything(later) if r.active}


def test_an_unknown_list_kind_is_a_programming_error(harness):
    """Asking for a list kind that does not exist raises ValueError."""
    session, _ = harness.session()
    with pytest.raises(ValueError):
        session.fetch_list("invoices", None)


# -- writes -------------------------------------------------------------------------------------


def test_create_supplier_then_the_same_name_is_a_duplicate(harness):
    """A created supplier comes back active; creating the same name again raises DuplicateName
    carrying the existing supplier."""
    session, _ = harness.session()
    created = session.create_supplier("Contract Widgets", idempotency_key="contract-1")
    assert (created.kind, created.name, created.active) == ("supplier", "Contract Widgets", True)
    with pytest.raises(DuplicateName) as duplicate:
        session.create_supplier("Contract Widgets", idempotency_key="contract-2")
    assert duplicate.value.existing.remote_id == created.remote_id


def test_a_retried_create_with_the_same_key_makes_one_supplier(harness):
    """The same idempotency key twice creates the supplier once and answers the same."""
    session, _ = harness.session()
    first = session.create_supplier("Contract Retry Ltd", idempotency_key="contract-retry")
    again = session.create_supplier("Contract Retry Ltd", idempotency_key="contract-retry")
    assert again.remote_id == first.remote_id
    assert harness.suppliers_named("Contract Retry Ltd") == 1


def test_create_bill_publishes_one_bill_per_idempotency_key(harness):
    """A bill for a supplier on an expense account is published once, however often the same
    request is retried."""
    session, _ = harness.session()
    supplier = session.create_supplier("Contract Bills Ltd", idempotency_key="contract-b")
    bill = Bill(
        supplier_id=supplier.remote_id,
        date=date(2025, 3, 1),
        lines=(BillLine("Contract line", Decimal("12.50"), account_code=harness.account_code),),
        reference="C-1",
    )
    published = session.create_bill(bill, idempotency_key="contract-bill-1")
    again = session.create_bill(bill, idempotency_key="contract-bill-1")
    assert published.remote_id and again.remote_id == published.remote_id
    assert published.remote_id in harness.bill_ids()
    assert len(harness.bill_ids()) == 1


def test_capabilities_are_consistent(harness):
    """Capabilities name known bill statuses and a positive refresh-token idle limit."""
    capabilities = harness.provider.capabilities
    assert set(capabilities.bill_statuses) <= {"DRAFT", "SUBMITTED", "AUTHORISED"}
    assert capabilities.bill_statuses and capabilities.refresh_token_idle_days > 0
    assert harness.provider.name == harness.name and harness.provider.display_name


def test_token_values_stay_out_of_reprs(harness):
    """Neither the provider nor its session shows a token or a secret in its repr."""
    session, tokens = harness.session()
    token_set: TokenSet = tokens.current()
    for shown in (repr(harness.provider), repr(session), repr(token_set)):
        assert token_set.access_token not in shown and token_set.refresh_token not in shown
