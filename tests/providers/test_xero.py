"""The Xero provider against FakeXero (fixtures and body schemas from Xero's OpenAPI spec)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from providers import xero
from providers.base import (
    Bill,
    BillLine,
    ConnectionExpired,
    DuplicateName,
    ProviderUnavailable,
    RateLimited,
    TrackingRef,
    ValidationFailed,
    tracking_ref,
)
from providers.http import make_cursor
from providers.quickbooks import QuickBooksProvider
from providers.xero import XeroProvider, parse_xero_date
from tests.providers import fake_xero, xero_spec
from tests.providers.conftest import MemoryTokenStore, token_set

VERIFIER = "x" * 20 + "verifier-for-pkce-0123456789-abcdefghij"
KATHERINE = "5cc8cf28-567e-4d43-b287-687cfcaec47c"  # IsSupplier and IsCustomer in the spec
LISA = "3ec601ad-eddc-4ccb-a8ac-736e88293b1b"  # neither flag in the spec


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def everything(fetch) -> list:
    return [record for page in fetch.pages for record in page]


def contacts_response(contacts: list[dict]) -> httpx.Response:
    return httpx.Response(200, json={"Contacts": contacts})


# -- the grant --------------------------------------------------------------------------------


def test_authorize_url_carries_state_scope_and_an_s256_challenge(xero, config):
    """The authorize URL names the client, callback, scopes and state, with a PKCE S256 challenge
    derived from the verifier."""
    url = urlsplit(xero.authorize_url("state-123", code_verifier=VERIFIER))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert (
        f"{url.scheme}://{url.netloc}{url.path}"
        == "https://login.xero.test/identity/connect/authorize"
    )
    assert query == {
        "response_type": "code",
        "client_id": fake_xero.CLIENT_ID,
        "redirect_uri": "https://ledgerlink.test/oauth/xero/callback",
        "scope": config.xero_scopes,
        "state": "state-123",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }


def test_exchange_code_returns_tokens_and_only_organisation_tenants(xero, fake_xero_server, clock):
    """Exchanging the code (Basic auth, PKCE verifier) yields expiring tokens and the ORGANISATION
    tenants from /connections, not practices."""
    fake_xero_server.connections.append(
        {**fake_xero_server.connections[0], "tenantId": "b2c3", "tenantType": "PRACTICE"}
    )
    code = fake_xero_server.issue_code(s256(VERIFIER))

    grant = xero.exchange_code(code, code_verifier=VERIFIER, callback_params={"code": code})

    assert grant.tokens.access_token == fake_xero_server.latest["access_token"]
    assert grant.tokens.access_expires_at == clock.now() + timedelta(minutes=30)
    assert grant.tokens.refresh_expires_at == clock.now() + timedelta(days=60)
    assert [(t.id, t.name) for t in grant.tenants] == [
        (fake_xero_server.tenant_id, "Demo Company (NZ)")
    ]
    token_request = fake_xero_server.calls[0]
    form = parse_qs(token_request.content.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["code_verifier"] == [VERIFIER]
    assert token_request.headers["Authorization"].startswith("Basic ")


def test_exchange_with_a_wrong_verifier_is_refused(xero, fake_xero_server):
    """A code exchanged with the wrong PKCE verifier comes back invalid_grant, raised as
    ConnectionExpired."""
    code = fake_xero_server.issue_code(s256(VERIFIER))
    with pytest.raises(ConnectionExpired, match="authorization code was rejected"):
        xero.exchange_code(code, code_verifier="y" * 50, callback_params={})


def test_list_tenants_with_a_dead_token_means_the_connection_expired(xero):
    """/connections answering 401 to a token raises ConnectionExpired."""
    with pytest.raises(ConnectionExpired):
        xero.list_tenants(token_set("dead", "dead", expires_at=datetime.now(UTC)))


def test_revoke_posts_the_refresh_token_to_the_revocation_endpoint(
    xero, fake_xero_server, xero_tokens
):
    """Revoking sends the refresh token with client Basic auth, and Xero forgets it."""
    xero.revoke(xero_tokens.current())
    request = fake_xero_server.calls[-1]
    assert request.url.path == "/connect/revocation"
    assert parse_qs(request.content.decode())["token"] == [xero_tokens.current().refresh_token]
    assert xero_tokens.current().refresh_token not in fake_xero_server.refresh_tokens


# -- lists ------------------------------------------------------------------------------------


@pytest.mark.parametrize("pagination_block", [True, False])
def test_contacts_are_paged_until_the_last_page(xero_session, fake_xero_server, pagination_block):
    """Contacts are read 1000 at a time over several pages, stopping at the pagination block's
    pageCount or, without one, at a short page."""
    fake_xero_server.pagination_block = pagination_block
    fake_xero_server.add_contacts(2100)

    fetch = xero_session.fetch_list("supplier", None)
    records = everything(fetch)

    requests = fake_xero_server.api_requests("Contacts")
    assert [r.url.params["page"] for r in requests] == ["1", "2", "3"]
    assert {r.url.params["pageSize"] for r in requests} == {"1000"}
    assert {r.url.params["includeArchived"] for r in requests} == {"true"}
    assert fetch.full is True and len(records) == 2102
    assert "If-Modified-Since" not in requests[0].headers


def test_an_exactly_full_last_page_costs_one_empty_page_without_pagination(
    xero_session, fake_xero_server
):
    """Without a pagination block, a last page of exactly 1000 is followed by one empty page."""
    fake_xero_server.pagination_block = False
    fake_xero_server.add_contacts(998)
    records = everything(xero_session.fetch_list("supplier", None))
    assert len(records) == 1000
    assert len(fake_xero_server.api_requests("Contacts")) == 2


def test_contacts_split_into_suppliers_and_customers(xero_session):
    """A contact that is not a customer only is a supplier (new contacts have neither flag);
    IsCustomer contacts are customers; one contact can be both. Only the fields ledgerlink
    reads are kept of each contact."""
    suppliers = {r.remote_id: r for r in everything(xero_session.fetch_list("supplier", None))}
    customers = {r.remote_id: r for r in everything(xero_session.fetch_list("customer", None))}
    assert set(suppliers) == {KATHERINE, LISA}
    assert set(customers) == {KATHERINE}
    katherine = suppliers[KATHERINE]
    assert (katherine.kind, katherine.name, katherine.active) == (
        "supplier",
        "Katherine Warren",
        True,
    )
    assert katherine.updated_at == datetime(2017, 8, 21, 20, 49, 4, 227000, tzinfo=UTC)
    assert katherine.raw["IsCustomer"] is True and katherine.raw["ContactID"] == KATHERINE
    assert "EmailAddress" not in katherine.raw and set(katherine.raw) <= set(xero.CONTACT_FIELDS)


def test_archived_contacts_come_back_inactive(xero_session, fake_xero_server):
    """An ARCHIVED contact is fetched (includeArchived) and marked inactive."""
    [archived] = fake_xero_server.add_contacts(1, ContactStatus="ARCHIVED", Name="Old Supplier")
    records = {r.remote_id: r for r in everything(xero_session.fetch_list("supplier", None))}
    assert records[archived["ContactID"]].active is False


def test_incremental_contacts_send_if_modified_since_and_report_leavers(
    xero_session, fake_xero_server, clock
):
    """With a cursor, contacts are asked for with If-Modified-Since (5 minutes before the cursor)
    ordered by UpdatedDateUTC, and a contact that became a customer only is reported inactive."""
    cursor = make_cursor(clock.now() - timedelta(days=2))
    [changed] = fake_xero_server.add_contacts(1)
    [customer_only] = fake_xero_server.add_contacts(1, IsSupplier=False, IsCustomer=True)

    fetch = xero_session.fetch_list("supplier", cursor)
    records = {r.remote_id: r for r in everything(fetch)}

    request = fake_xero_server.api_requests("Contacts")[0]
    assert request.headers["If-Modified-Since"] == "2025-03-01T08:55:00"
    assert request.url.params["order"] == "UpdatedDateUTC ASC"
    assert fetch.full is False and fetch.cursor == make_cursor(clock.now())
    assert set(records) == {changed["ContactID"], customer_only["ContactID"]}
    assert records[changed["ContactID"]].active is True
    assert records[customer_only["ContactID"]].active is False


def test_accounts_and_bank_accounts(xero_session):
    """The chart of accounts comes whole with codes and statuses; BANK accounts are the payment
    methods."""
    accounts = {r.code: r for r in everything(xero_session.fetch_list("account", None))}
    assert set(accounts) == {"091", "200", "123456"}
    assert accounts["123456"].updated_at == parse_xero_date("/Date(1550793549320+0000)/")
    payment = everything(xero_session.fetch_list("payment_method", None))
    assert [(r.kind, r.code, r.name) for r in payment] == [
        ("payment_method", "091", "Business Savings Account")
    ]


def test_incremental_accounts_send_if_modified_since(xero_session, fake_xero_server, clock):
    """An accounts fetch with a cursor sends If-Modified-Since and is not a full list."""
    fetch = xero_session.fetch_list("account", make_cursor(clock.now() - timedelta(hours=1)))
    everything(fetch)
    assert fetch.full is False
    assert (
        fake_xero_server.api_requests("Accounts")[0].headers["If-Modified-Since"]
        == "2025-03-03T07:55:00"
    )


def test_tax_rates_and_tracking_always_come_whole(xero_session, fake_xero_server, clock):
    """Tax rates and tracking categories (no If-Modified-Since in Xero's spec) are fetched whole
    even with a cursor, and say so."""
    cursor = make_cursor(clock.now() - timedelta(hours=1))
    taxes = xero_session.fetch_list("tax_rate", cursor)
    tracking = xero_session.fetch_list("tracking", cursor)
    tax_records, tracking_records = everything(taxes), everything(tracking)
    assert taxes.full is tracking.full is True
    assert {r.code for r in tax_records} >= {"INPUT2", "OUTPUT2", "NONE"}
    assert all(r.remote_id == r.code for r in tax_records)
    for request in fake_xero_server.calls[-2:]:
        assert "If-Modified-Since" not in request.headers
    assert fake_xero_server.calls[-1].url.params["includeArchived"] == "true"
    [option] = tracking_records
    assert (
        option.remote_id
        == "22f10184-0deb-44ae-a312-b1f6ea70e51f/34669548-b989-487a-979f-0787d04568a2"
    )
    assert option.name == "BarFoo: Bar40423"
    assert tracking_ref(option) == TrackingRef(
        "22f10184-0deb-44ae-a312-b1f6ea70e51f",
        "34669548-b989-487a-979f-0787d04568a2",
        "BarFoo",
        "Bar40423",
    )


def test_archived_tracking_categories_make_their_options_inactive(xero_session, fake_xero_server):
    """An option of an ARCHIVED category is inactive."""
    fake_xero_server.tracking_categories[0]["Status"] = "ARCHIVED"
    [option] = everything(xero_session.fetch_list("tracking", None))
    assert option.active is False


def test_parse_xero_date():
    """Xero's /Date(ms+zone)/ strings become aware UTC datetimes; junk becomes None."""
    assert parse_xero_date("/Date(1573755038314+0000)/") == datetime(
        2019, 11, 14, 18, 10, 38, 314000, tzinfo=UTC
    )
    assert parse_xero_date("/Date(1550793549392)/") == datetime(
        2019, 2, 21, 23, 59, 9, 392000, tzinfo=UTC
    )
    assert parse_xero_date("2019-12-07T18:46:19") == datetime(2019, 12, 7, 18, 46, 19, tzinfo=UTC)
    assert parse_xero_date("soon") is None and parse_xero_date(None) is None


# -- suppliers --------------------------------------------------------------------------------


def test_create_supplier_puts_a_spec_valid_contact_with_an_idempotency_key(
    xero_session, fake_xero_server
):
    """Creating a supplier PUTs {"Contacts": [{"Name"}]} (checked against the spec) with the
    Idempotency-Key, and returns it as an active supplier."""
    record = xero_session.create_supplier("  Acme   Tyres ", idempotency_key="item-42-supplier")
    request = fake_xero_server.api_requests("Contacts")[-1]
    assert request.method == "PUT"
    assert json.loads(request.content) == {"Contacts": [{"Name": "Acme Tyres"}]}
    assert request.headers["Idempotency-Key"] == "item-42-supplier"
    assert (record.kind, record.name, record.active) == ("supplier", "Acme Tyres", True)
    assert any(c["ContactID"] == record.remote_id for c in fake_xero_server.contacts)


def test_a_retried_create_with_the_same_key_creates_once(xero_session, fake_xero_server):
    """The same idempotency key sent twice creates one contact."""
    first = xero_session.create_supplier("Once Only Ltd", idempotency_key="k-1")
    second = xero_session.create_supplier("Once Only Ltd", idempotency_key="k-1")
    assert first.remote_id == second.remote_id
    assert [c["Name"] for c in fake_xero_server.contacts].count("Once Only Ltd") == 1


def test_duplicate_supplier_name_raises_duplicate_name_with_the_existing_contact(
    xero_session, fake_xero_server
):
    """Xero's "already assigned to another contact" 400 is turned into DuplicateName carrying the
    existing contact, found with a case-insensitive search."""
    with pytest.raises(DuplicateName) as raised:
        xero_session.create_supplier("katherine warren", idempotency_key="k-2")
    assert raised.value.existing.remote_id == KATHERINE
    assert raised.value.existing.name == "Katherine Warren"
    lookup = fake_xero_server.api_requests("Contacts")[-1]
    assert lookup.method == "GET" and lookup.url.params["searchTerm"] == "katherine warren"


def test_a_validation_error_that_is_not_a_duplicate_is_surfaced(xero_session, fake_xero_server):
    """Other contact validation errors come back as ValidationFailed with Xero's messages."""
    error = xero_spec.example("/Contacts", "put", "400")
    error["Elements"][0]["ValidationErrors"] = [{"Message": "Email address must be valid."}]
    fake_xero_server.queue("/api.xro/2.0/Contacts", httpx.Response(400, json=error))
    with pytest.raises(ValidationFailed) as raised:
        xero_session.create_supplier("Bad Email Co", idempotency_key="k-3")
    assert raised.value.messages == ["Email address must be valid."]


# -- bills ------------------------------------------------------------------------------------


def bill(**overrides) -> Bill:
    values = dict(
        supplier_id=KATHERINE,
        date=date(2025, 3, 1),
        due_date=date(2025, 3, 31),
        reference="INV-778",
        currency="NZD",
        status="DRAFT",
        lines=(
            BillLine(
                "Tyres",
                Decimal("230.00"),
                account_code="123456",
                tax_code="INPUT2",
                tracking=(
                    TrackingRef(
                        "22f10184-0deb-44ae-a312-b1f6ea70e51f",
                        "34669548-b989-487a-979f-0787d04568a2",
                    ),
                ),
            ),
            BillLine("Valve caps", Decimal("4.50"), account_code="123456"),
        ),
    )
    return Bill(**{**values, **overrides})


def test_create_bill_puts_a_spec_valid_accpay_invoice(xero_session, fake_xero_server):
    """A bill becomes an ACCPAY invoice (checked against the spec) with the supplier's number,
    tax-inclusive lines, tracking by name (looked up from the ids), and an Idempotency-Key."""
    published = xero_session.create_bill(bill(), idempotency_key="bill-item-42")

    request = fake_xero_server.api_requests("Invoices")[-1]
    sent = json.loads(request.content)["Invoices"][0]
    assert request.headers["Idempotency-Key"] == "bill-item-42"
    assert sent == {
        "Type": "ACCPAY",
        "Status": "DRAFT",
        "Contact": {"ContactID": KATHERINE},
        "Date": "2025-03-01",
        "DueDate": "2025-03-31",
        "InvoiceNumber": "INV-778",
        "CurrencyCode": "NZD",
        "LineAmountTypes": "Inclusive",
        "LineItems": [
            {
                "Description": "Tyres",
                "Quantity": 1,
                "UnitAmount": 230.0,
                "AccountCode": "123456",
                "TaxType": "INPUT2",
                "Tracking": [{"Name": "BarFoo", "Option": "Bar40423"}],
            },
            {
                "Description": "Valve caps",
                "Quantity": 1,
                "UnitAmount": 4.5,
                "AccountCode": "123456",
            },
        ],
    }
    created = fake_xero_server.invoices[-1]
    assert published.remote_id == created["InvoiceID"]
    assert (
        published.url
        == f"https://go.xero.com/AccountsPayable/View.aspx?InvoiceID={created['InvoiceID']}"
    )
    assert published.number == "INV-778"


def test_tracking_names_given_on_the_ref_need_no_lookup(xero_session, fake_xero_server):
    """When the tracking ref carries names, no extra /TrackingCategories call is made."""
    line = BillLine(
        "Tyres",
        Decimal("10"),
        account_code="123456",
        tracking=(
            TrackingRef(
                "22f10184-0deb-44ae-a312-b1f6ea70e51f",
                "34669548-b989-487a-979f-0787d04568a2",
                "BarFoo",
                "Bar40423",
            ),
        ),
    )
    xero_session.create_bill(bill(lines=(line,), amounts_include_tax=False), idempotency_key="b-2")
    assert fake_xero_server.api_requests("TrackingCategories") == []
    sent = json.loads(fake_xero_server.api_requests("Invoices")[-1].content)["Invoices"][0]
    assert sent["LineAmountTypes"] == "Exclusive"


def test_bill_validation_errors_are_surfaced_with_xeros_messages(xero_session):
    """An unknown account code is refused by Xero and raised as ValidationFailed with its words."""
    line = BillLine("Mystery", Decimal("5"), account_code="999")
    with pytest.raises(ValidationFailed) as raised:
        xero_session.create_bill(bill(lines=(line,)), idempotency_key="b-3")
    assert raised.value.messages == ["Account code '999' is not a valid code for this document."]


def test_an_unknown_tracking_option_is_refused_before_sending(xero_session, fake_xero_server):
    """A tracking ref Xero does not have is refused without sending the bill."""
    line = BillLine(
        "Tyres", Decimal("10"), account_code="123456", tracking=(TrackingRef("nope", "nada"),)
    )
    with pytest.raises(ValidationFailed, match="no tracking option"):
        xero_session.create_bill(bill(lines=(line,)), idempotency_key="b-4")
    assert fake_xero_server.api_requests("Invoices") == []


# -- tokens -----------------------------------------------------------------------------------


def test_a_401_refreshes_once_and_retries(xero_session, xero_tokens, fake_xero_server):
    """An expired access token (401 TokenExpired) is refreshed once through the token store and
    the request retried with the new token."""
    fake_xero_server.expire_access_tokens()
    records = everything(xero_session.fetch_list("tax_rate", None))
    assert records
    assert fake_xero_server.token_calls == 1 and xero_tokens.refreshes == 1
    latest = fake_xero_server.latest
    assert xero_tokens.current().refresh_token == latest["refresh_token"]
    last = fake_xero_server.api_requests("TaxRates")[-1]
    assert last.headers["Authorization"] == f"Bearer {latest['access_token']}"
    assert last.headers["xero-tenant-id"] == fake_xero_server.tenant_id


def test_a_second_401_after_refreshing_means_the_connection_expired(xero_session, fake_xero_server):
    """If Xero still answers 401 after one refresh, ConnectionExpired is raised (no loop)."""
    unauthorized = {"Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired"}
    fake_xero_server.queue(
        "/api.xro/2.0/TaxRates",
        httpx.Response(401, json=unauthorized),
        httpx.Response(401, json=unauthorized),
    )
    with pytest.raises(ConnectionExpired):
        everything(xero_session.fetch_list("tax_rate", None))
    assert fake_xero_server.token_calls == 1


def test_a_token_about_to_lapse_is_refreshed_before_the_call(xero, fake_xero_server, clock):
    """An access token within two minutes of expiry is refreshed before the request is sent."""
    access, refresh = fake_xero_server.grant()
    tokens = MemoryTokenStore(
        token_set(access, refresh, expires_at=clock.now() + timedelta(seconds=90))
    )
    everything(xero.session(fake_xero_server.tenant_id, tokens).fetch_list("tax_rate", None))
    paths = [r.url.path for r in fake_xero_server.calls]
    assert paths == ["/connect/token", "/api.xro/2.0/TaxRates"]
    assert tokens.current().access_expires_at == clock.now() + timedelta(minutes=30)


def test_invalid_grant_on_refresh_means_the_connection_expired(xero, fake_xero_server, clock):
    """A refresh token Xero rejects (invalid_grant) raises ConnectionExpired."""
    tokens = MemoryTokenStore(token_set("gone", "revoked-refresh", expires_at=clock.now()))
    with pytest.raises(ConnectionExpired, match="refresh token was rejected"):
        everything(xero.session(fake_xero_server.tenant_id, tokens).fetch_list("account", None))


def test_a_403_for_the_tenant_means_the_connection_expired(xero, xero_tokens):
    """Xero answering 403 AuthenticationUnsuccessful (tenant disconnected) raises
    ConnectionExpired."""
    session = xero.session("00000000-0000-0000-0000-000000000000", xero_tokens)
    with pytest.raises(ConnectionExpired, match="AuthenticationUnsuccessful"):
        everything(session.fetch_list("account", None))


# -- limits and failures ----------------------------------------------------------------------


def throttled(retry_after: str, problem: str) -> httpx.Response:
    return httpx.Response(
        429, headers={"Retry-After": retry_after, "X-Rate-Limit-Problem": problem}
    )


def test_a_minute_limit_429_is_waited_out_inline(xero_session, fake_xero_server, fake_time):
    """A 429 for the minute limit sleeps for Retry-After, then the request succeeds."""
    fake_xero_server.queue("/api.xro/2.0/TaxRates", throttled("7", "minute"))
    assert everything(xero_session.fetch_list("tax_rate", None))
    assert fake_time.sleeps == [7.0]
    assert len(fake_xero_server.api_requests("TaxRates")) == 2


def test_a_daily_limit_429_raises_rate_limited_at_once(xero_session, fake_xero_server, fake_time):
    """A 429 for the daily limit raises RateLimited(retry_after, "day") without retrying."""
    fake_xero_server.queue("/api.xro/2.0/TaxRates", throttled("3600", "day"))
    with pytest.raises(RateLimited) as raised:
        everything(xero_session.fetch_list("tax_rate", None))
    assert (raised.value.retry_after, raised.value.scope) == (3600.0, "day")
    assert fake_time.sleeps == [] and len(fake_xero_server.api_requests("TaxRates")) == 1


def test_inline_throttle_waits_stay_within_their_budget(xero_session, fake_xero_server, fake_time):
    """Minute-limit waits stop once they would exceed the 60 s budget: RateLimited is raised."""
    fake_xero_server.queue("/api.xro/2.0/TaxRates", *[throttled("25", "minute")] * 4)
    with pytest.raises(RateLimited) as raised:
        everything(xero_session.fetch_list("tax_rate", None))
    assert raised.value.scope == "minute"
    assert fake_time.sleeps == [25.0, 25.0]


def test_sessions_of_one_tenant_share_the_60_calls_a_minute_limit(
    xero, xero_tokens, fake_xero_server, fake_time
):
    """Two sessions for one organisation share its limit: the 61st call in a minute waits."""
    sessions = [xero.session(fake_xero_server.tenant_id, xero_tokens) for _ in range(2)]
    for n in range(61):
        everything(sessions[n % 2].fetch_list("account", None))
    assert fake_time.sleeps == [60.0]


def test_5xx_is_retried_with_backoff_then_provider_unavailable(
    xero_session, fake_xero_server, fake_time
):
    """Server errors are retried three times with growing jittered delays, then
    ProviderUnavailable."""
    fake_xero_server.queue("/api.xro/2.0/Accounts", *[httpx.Response(503)] * 4)
    with pytest.raises(ProviderUnavailable, match="HTTP 503"):
        everything(xero_session.fetch_list("account", None))
    assert fake_time.sleeps == [0.375, 0.75, 1.5]
    assert len(fake_xero_server.api_requests("Accounts")) == 4


def test_a_transient_5xx_recovers(xero_session, fake_xero_server):
    """One 502 followed by a good answer succeeds."""
    fake_xero_server.queue("/api.xro/2.0/Accounts", httpx.Response(502))
    assert everything(xero_session.fetch_list("account", None))


def test_timeouts_and_resets_are_retried_then_provider_unavailable(
    config, xero_tokens, clock, timing
):
    """Connection errors are retried a bounded number of times, then ProviderUnavailable."""
    attempts = []

    def broken(request):
        attempts.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    with httpx.Client(transport=httpx.MockTransport(broken)) as client:
        provider = XeroProvider(config, http_client=client, clock=clock, timing=timing)
        session = provider.session("tenant", xero_tokens)
        with pytest.raises(ProviderUnavailable, match="ReadTimeout"):
            everything(session.fetch_list("account", None))
    assert len(attempts) == 4


def test_malformed_json_raises_provider_unavailable(xero_session, fake_xero_server):
    """A 200 whose body is not JSON raises ProviderUnavailable."""
    fake_xero_server.queue(
        "/api.xro/2.0/Accounts", httpx.Response(200, text="<html>maintenance</html>")
    )
    with pytest.raises(ProviderUnavailable, match="unreadable"):
        everything(xero_session.fetch_list("account", None))


def test_fetching_an_unknown_kind_is_a_programming_error(xero_session):
    """An unknown list kind raises ValueError."""
    with pytest.raises(ValueError, match="unknown list kind"):
        xero_session.fetch_list("invoice", None)


# -- one pass per list ------------------------------------------------------------------------


def test_one_contacts_pass_gives_suppliers_and_customers(xero_session, fake_xero_server):
    """fetch_lists reads /Contacts once, page by page, for both kinds; each record says its
    kind, and the fetch reports how many contacts it read of how many."""
    fake_xero_server.add_contacts(1500)
    fetch = xero_session.fetch_lists(("supplier", "customer"), None)
    records = everything(fetch)
    assert len(fake_xero_server.api_requests("Contacts")) == 2  # 1502 contacts: two pages
    kinds = {kind: {r.remote_id for r in records if r.kind == kind} for kind in fetch.kinds}
    assert KATHERINE in kinds["supplier"] and KATHERINE in kinds["customer"]
    assert len(kinds["supplier"]) == 1502 and kinds["customer"] == {KATHERINE}
    assert (fetch.read, fetch.expected) == (1502, 1502)


def test_one_accounts_pass_gives_the_chart_and_the_payment_accounts(xero_session, fake_xero_server):
    """/Accounts is read once for the chart (every account) and the BANK payment accounts."""
    records = everything(xero_session.fetch_lists(("account", "payment_method"), None))
    assert len(fake_xero_server.api_requests("Accounts")) == 1
    banks = [r.name for r in records if r.kind == "payment_method"]
    assert banks == ["Business Savings Account"]
    assert len([r for r in records if r.kind == "account"]) == len(fake_xero_server.accounts)
    assert xero_session.list_groups == xero.LIST_GROUPS


def test_a_bill_line_with_an_account_id_is_sent_by_id(xero_session, fake_xero_server):
    """With the account's id (resolved when the item was accepted), the line names AccountID,
    which the spec allows and which survives a rename or a new code at Xero."""
    foobar = next(a for a in fake_xero_server.accounts if a["Code"] == "123456")
    line = BillLine(
        "Tyres", Decimal("230.00"), account_code="123456", account_id=foobar["AccountID"]
    )
    xero_session.create_bill(
        Bill(supplier_id=KATHERINE, date=date(2025, 3, 1), lines=(line,)), idempotency_key="b-1"
    )
    sent = json.loads(fake_xero_server.api_requests("Invoices")[-1].content)["Invoices"][0]
    assert sent["LineItems"][0]["AccountID"] == foobar["AccountID"]
    assert "AccountCode" not in sent["LineItems"][0]


@pytest.mark.parametrize("provider", [XeroProvider, QuickBooksProvider])
def test_a_provider_without_client_credentials_is_refused_by_name(provider, config, clock):
    """A provider built without its client ID and secret fails at once, naming the service,
    before any request could be sent with empty credentials."""
    unconfigured = dataclasses.replace(config, xero=None, quickbooks=None)
    with httpx.Client() as client, pytest.raises(ValueError, match="is not configured"):
        provider(unconfigured, http_client=client, clock=clock)
