"""The QuickBooks Online provider against FakeQuickBooks (shapes from Intuit's documentation)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from providers import base
from providers.http import make_cursor
from providers.quickbooks import RATE_LIMIT, QuickBooksProvider, qbo_faults
from tests.providers import fake_quickbooks
from tests.providers.conftest import MemoryTokenStore, token_set
from tests.providers.fake_quickbooks import fault, throttled_xml

VERIFIER = "v" * 20 + "quickbooks-pkce-verifier-0123456789"


def everything(fetch) -> list:
    return [record for page in fetch.pages for record in page]


def queries(fake) -> list[str]:
    return [r.url.params["query"] for r in fake.api_requests("/query")]


# -- the grant --------------------------------------------------------------------------------


def test_authorize_url_names_the_accounting_scope_and_state_without_pkce(qbo):
    """The authorize URL carries client id, accounting scope, callback and state; PKCE is off by
    default."""
    url = urlsplit(qbo.authorize_url("state-9", code_verifier=VERIFIER))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert (
        f"{url.scheme}://{url.netloc}{url.path}" == "https://appcenter.intuit.test/connect/oauth2"
    )
    assert query == {
        "response_type": "code",
        "client_id": fake_quickbooks.CLIENT_ID,
        "scope": "com.intuit.quickbooks.accounting",
        "state": "state-9",
        "redirect_uri": "https://ledgerlink.test/oauth/quickbooks/callback",
    }
    assert qbo.capabilities.pkce is False


def test_pkce_can_be_turned_on(config, qbo_http, clock, timing):
    """With pkce=True the URL carries an S256 challenge and the capability says so."""
    provider = QuickBooksProvider(
        config, http_client=qbo_http, clock=clock, timing=timing, pkce=True
    )
    query = parse_qs(urlsplit(provider.authorize_url("s", code_verifier=VERIFIER)).query)
    digest = hashlib.sha256(VERIFIER.encode()).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]
    assert query["code_challenge_method"] == ["S256"]
    assert provider.capabilities.pkce is True


def test_exchange_code_uses_the_callbacks_realm_and_company_name(qbo, fake_qbo_server, clock):
    """The code is exchanged (asking for the hard expiry) and the company is the callback's
    realmId, named from CompanyInfo; the refresh expiry is the sooner of rolling and hard."""
    code = fake_qbo_server.issue_code()
    grant = qbo.exchange_code(
        code,
        code_verifier=None,
        callback_params={"code": code, "realmId": fake_qbo_server.realm_id},
    )
    assert [(t.id, t.name) for t in grant.tenants] == [
        (fake_qbo_server.realm_id, fake_quickbooks.COMPANY_NAME)
    ]
    assert grant.tokens.access_expires_at == clock.now() + timedelta(hours=1)
    assert grant.tokens.refresh_expires_at == clock.now() + timedelta(days=30)
    token_request = fake_qbo_server.calls[0]
    assert token_request.headers["x-include-refresh-token-hard-expires-in"] == "true"
    assert "code_verifier" not in parse_qs(token_request.content.decode())


def test_exchange_without_a_realm_is_refused(qbo, fake_qbo_server):
    """A callback without realmId cannot name a company: ValidationFailed, no token call."""
    with pytest.raises(base.ValidationFailed, match="realmId"):
        qbo.exchange_code("code", code_verifier=None, callback_params={"code": "code"})
    assert fake_qbo_server.token_calls == 0


def test_list_tenants_needs_a_realm(qbo, qbo_tokens, fake_qbo_server):
    """Without a realm id there is nothing to list; with one, the company comes back."""
    assert qbo.list_tenants(qbo_tokens.current()) == ()
    [tenant] = qbo.list_tenants(qbo_tokens.current(), realm_id=fake_qbo_server.realm_id)
    assert tenant.name == fake_quickbooks.COMPANY_NAME


def test_revoke_posts_json_with_client_basic_auth(qbo, qbo_tokens, fake_qbo_server):
    """Revocation POSTs {"token": refresh} as JSON with Basic auth to the revoke URL."""
    qbo.revoke(qbo_tokens.current())
    request = fake_qbo_server.calls[-1]
    assert str(request.url) == fake_quickbooks.REVOKE_URL
    assert json.loads(request.content) == {"token": qbo_tokens.current().refresh_token}
    assert request.headers["Authorization"].startswith("Basic ")


# -- lists ------------------------------------------------------------------------------------


def test_vendors_are_queried_in_pages_including_inactive(qbo_session, fake_qbo_server):
    """A full vendor fetch pages with STARTPOSITION/MAXRESULTS 1000, asks for inactive ones too,
    and marks them inactive; minorversion=75 is on every call (the fake insists)."""
    fake_qbo_server.add("Vendor", 2100)
    fetch = qbo_session.fetch_list("supplier", None)
    records = everything(fetch)
    assert queries(fake_qbo_server) == [
        f"SELECT * FROM Vendor WHERE Active IN (true, false) STARTPOSITION {start} "  # noqa: S608
        "MAXRESULTS 1000"
        for start in (1, 1001, 2001)
    ]
    assert fetch.full is True and len(records) == 2102
    by_id = {r.remote_id: r for r in records}
    assert by_id["56"].name == "Bob's Burger Joint" and by_id["56"].active is True
    assert by_id["41"].active is False


def test_an_empty_list_has_no_pages(qbo_session, fake_qbo_server):
    """A QueryResponse without the entity key is an empty list."""
    fake_qbo_server.entities["Customer"] = []
    assert everything(qbo_session.fetch_list("customer", None)) == []


def test_account_codes_are_account_numbers_or_ids(qbo_session):
    """An account's code is its AcctNum when it has one, else its Id."""
    accounts = {r.remote_id: r for r in everything(qbo_session.fetch_list("account", None))}
    assert {k: r.code for k, r in accounts.items()} == {"7": "6000", "13": "13", "35": "1000"}
    assert accounts["35"].active is False


def test_tracking_is_classes_and_locations(qbo_session):
    """Classes and departments become tracking records of the "class" and "department"
    categories."""
    records = everything(qbo_session.fetch_list("tracking", None))
    assert [(r.remote_id, r.name) for r in records] == [
        ("class/5000000000000001", "Class: Design"),
        ("department/1", "Location: Downtown"),
    ]
    assert base.tracking_ref(records[0]) == base.TrackingRef(
        "class", "5000000000000001", "Class", "Design"
    )


def test_tax_codes_and_payment_methods(qbo_session):
    """Tax codes (code = Id, inactive ones too) and payment methods are listed."""
    taxes = everything(qbo_session.fetch_list("tax_rate", None))
    assert [(r.code, r.name, r.active) for r in taxes] == [
        ("2", "California", True),
        ("3", "Tucson", False),
    ]
    methods = everything(qbo_session.fetch_list("payment_method", None))
    assert [r.name for r in methods] == ["Cash", "Visa"]


def test_incremental_fetch_uses_cdc_since_the_cursor(qbo_session, fake_qbo_server, clock):
    """With a recent cursor, changes come from CDC (changedSince 5 minutes before the cursor),
    deleted objects come back inactive, and the fetch is not full."""
    [changed] = fake_qbo_server.add("Vendor", 1)
    fake_qbo_server.deleted["Vendor"].append(
        {
            "domain": "QBO",
            "status": "Deleted",
            "Id": "77",
            "MetaData": {"LastUpdatedTime": "2025-03-02T10:00:00-08:00"},
        }
    )
    fetch = qbo_session.fetch_list("supplier", make_cursor(clock.now() - timedelta(days=2)))
    records = {r.remote_id: r for r in everything(fetch)}
    [request] = fake_qbo_server.api_requests("/cdc")
    assert request.url.params["entities"] == "Vendor"
    assert request.url.params["changedSince"] == "2025-03-01T08:55:00+00:00"
    assert fetch.full is False and fetch.cursor == make_cursor(clock.now())
    assert set(records) == {changed["Id"], "77"}
    assert records["77"].active is False
    assert queries(fake_qbo_server) == []


def test_incremental_tracking_asks_cdc_for_classes_and_departments(
    qbo_session, fake_qbo_server, clock
):
    """Tracking changes come from one CDC call naming both entities."""
    fake_qbo_server.add("Department", 1)
    records = everything(qbo_session.fetch_list("tracking", make_cursor(clock.now())))
    assert fake_qbo_server.api_requests("/cdc")[0].url.params["entities"] == "Class,Department"
    assert [r.raw["category_id"] for r in records] == ["department"]


def test_a_cursor_older_than_cdcs_lookback_means_a_full_fetch(qbo_session, fake_qbo_server, clock):
    """A cursor more than 30 days old is not sent to CDC: the list is fetched whole."""
    fetch = qbo_session.fetch_list("supplier", make_cursor(clock.now() - timedelta(days=31)))
    everything(fetch)
    assert fetch.full is True
    assert fake_qbo_server.api_requests("/cdc") == [] and len(queries(fake_qbo_server)) == 1


def test_a_cdc_answer_at_the_cap_falls_back_to_a_full_fetch(qbo_session, fake_qbo_server, clock):
    """A CDC answer holding 1000 objects may be cut off, so the list is fetched whole."""
    fake_qbo_server.add("Customer", 1000)
    fetch = qbo_session.fetch_list("customer", make_cursor(clock.now() - timedelta(hours=1)))
    records = everything(fetch)
    assert fetch.full is True and len(records) == 1001
    assert len(fake_qbo_server.api_requests("/cdc")) == 1 and len(queries(fake_qbo_server)) == 2


def test_tax_codes_are_always_fetched_whole(qbo_session, fake_qbo_server, clock):
    """CDC does not cover TaxCode, so tax rates are a full fetch even with a cursor."""
    fetch = qbo_session.fetch_list("tax_rate", make_cursor(clock.now()))
    everything(fetch)
    assert fetch.full is True and fake_qbo_server.api_requests("/cdc") == []


# -- suppliers --------------------------------------------------------------------------------


def test_create_supplier_posts_a_vendor_with_a_request_id(qbo_session, fake_qbo_server):
    """A supplier is a Vendor POSTed with DisplayName and requestid = the idempotency key."""
    record = qbo_session.create_supplier("Acme Tyres", idempotency_key="item-7-supplier")
    request = fake_qbo_server.api_requests("/vendor")[-1]
    assert json.loads(request.content) == {"DisplayName": "Acme Tyres"}
    assert request.url.params["requestid"] == "item-7-supplier"
    assert (record.kind, record.name, record.active) == ("supplier", "Acme Tyres", True)


def test_long_idempotency_keys_are_shortened_stably(qbo_session, fake_qbo_server):
    """A key longer than QuickBooks' 50 characters becomes the same 50-character digest each
    time, so a retry still matches."""
    key = "workspace-T1/item-0000000042/create-supplier/attempt-" + "x" * 40
    qbo_session.create_supplier("Long Key Ltd", idempotency_key=key)
    qbo_session.create_supplier("Long Key Ltd", idempotency_key=key)
    ids = {r.url.params["requestid"] for r in fake_qbo_server.api_requests("/vendor")}
    assert len(ids) == 1 and len(ids.pop()) == 50
    assert [v["DisplayName"] for v in fake_qbo_server.entities["Vendor"]].count("Long Key Ltd") == 1


def test_duplicate_vendor_name_raises_duplicate_name_with_the_existing_vendor(
    qbo_session, fake_qbo_server
):
    """Fault 6240 leads to a vendor lookup by DisplayName (quote escaped) and DuplicateName."""
    with pytest.raises(base.DuplicateName) as raised:
        qbo_session.create_supplier("Bob's Burger Joint", idempotency_key="k-1")
    assert raised.value.existing.remote_id == "56"
    assert queries(fake_qbo_server)[-1] == (
        "SELECT * FROM Vendor WHERE DisplayName = 'Bob\\'s Burger Joint' AND "
        "Active IN (true, false) STARTPOSITION 1 MAXRESULTS 1000"
    )


def test_a_name_taken_by_a_customer_is_a_validation_failure(qbo_session):
    """When the clashing name belongs to a customer (no such vendor), QuickBooks' message is
    raised as ValidationFailed."""
    with pytest.raises(base.ValidationFailed) as raised:
        qbo_session.create_supplier("Amy's Bird Sanctuary", idempotency_key="k-2")
    assert raised.value.messages == [
        "Duplicate Name Exists Error: The name supplied already exists. : Another customer, "
        "vendor or employee is already using this name. Please use a different name."
    ]


# -- bills ------------------------------------------------------------------------------------


def _bill(**changes) -> base.Bill:
    values = {
        "supplier_id": "56",
        "date": date(2025, 3, 1),
        "lines": (base.BillLine("Lunch", Decimal("11.50"), account_code="6000"),),
    }
    return base.Bill(**{**values, **changes})


def _line(account_code: str) -> tuple[base.BillLine]:
    """One line of 1.00 on `account_code`."""
    return (base.BillLine("x", Decimal("1"), account_code=account_code),)


def test_create_bill_posts_expense_lines_with_mapped_accounts(qbo_session, fake_qbo_server):
    """A bill is POSTed with the vendor, dates, DocNumber, currency, account codes mapped to
    account ids, a class per line and the location on the bill; the fake company is in the US,
    so no GlobalTaxCalculation is sent (Intuit: not applicable to US companies)."""
    lines = (
        base.BillLine(
            "Lunch",
            Decimal("42.50"),
            account_code="6000",
            tax_code="2",
            tracking=(
                base.TrackingRef("class", "5000000000000001"),
                base.TrackingRef("department", "1"),
            ),
        ),
        base.BillLine("Coffee", Decimal("7.25"), account_code="13"),
    )
    published = qbo_session.create_bill(
        base.Bill(
            supplier_id="56",
            date=date(2025, 3, 1),
            due_date=date(2025, 3, 31),
            reference="R-1001",
            currency="usd",
            lines=lines,
        ),
        idempotency_key="bill-item-7",
    )
    request = fake_qbo_server.api_requests("/bill")[-1]
    assert request.url.params["requestid"] == "bill-item-7"
    assert json.loads(request.content) == {
        "VendorRef": {"value": "56"},
        "TxnDate": "2025-03-01",
        "DueDate": "2025-03-31",
        "DocNumber": "R-1001",
        "CurrencyRef": {"value": "USD"},
        "DepartmentRef": {"value": "1"},
        "Line": [
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": 42.5,
                "Description": "Lunch",
                "AccountBasedExpenseLineDetail": {
                    "AccountRef": {"value": "7"},
                    "TaxCodeRef": {"value": "2"},
                    "ClassRef": {"value": "5000000000000001"},
                },
            },
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": 7.25,
                "Description": "Coffee",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "13"}},
            },
        ],
    }
    bill_id = fake_qbo_server.bills[-1]["Id"]
    assert published.remote_id == bill_id
    assert published.url == f"https://app.qbo.intuit.com/app/bill?txnId={bill_id}"
    assert published.number == "R-1001"


def test_sandbox_bills_link_to_the_sandbox_app(
    config, qbo_http, clock, timing, qbo_tokens, fake_qbo_server
):
    """In the sandbox environment the bill URL points at app.sandbox.qbo.intuit.com."""
    provider = QuickBooksProvider(
        config.replace(qbo_environment="sandbox"), http_client=qbo_http, clock=clock, timing=timing
    )
    session = provider.session(fake_qbo_server.realm_id, qbo_tokens)
    published = session.create_bill(
        _bill(lines=_line("13")),
        idempotency_key="b",
    )
    assert published.url.startswith("https://app.sandbox.qbo.intuit.com/app/bill?txnId=")


def test_unknown_account_codes_and_mixed_locations_are_refused(qbo_session, fake_qbo_server):
    """A code no account has, or lines naming two locations, fail before anything is posted."""
    with pytest.raises(base.ValidationFailed, match="no account with number or name 9999"):
        qbo_session.create_bill(
            _bill(lines=_line("9999")),
            idempotency_key="b1",
        )
    with pytest.raises(base.ValidationFailed, match="one location"):
        places = tuple(
            base.BillLine(
                name, Decimal("1"), account_code="13", tracking=(base.TrackingRef("department", n),)
            )
            for name, n in (("x", "1"), ("y", "2"))
        )
        qbo_session.create_bill(_bill(lines=places), idempotency_key="b2")
    assert fake_qbo_server.api_requests("/bill") == []


def test_bill_faults_are_surfaced_with_intuits_messages(qbo_session):
    """A fault from QuickBooks (unknown vendor) is raised as ValidationFailed with its words,
    the Message not repeated when the Detail already starts with it."""
    with pytest.raises(base.ValidationFailed) as raised:
        qbo_session.create_bill(
            _bill(lines=_line("13"), supplier_id="999"),
            idempotency_key="b3",
        )
    assert raised.value.messages == [
        "Invalid Reference Id : Vendor assigned to this transaction has been deleted. Before you "
        "can modify this transaction, you must restore the vendor."
    ]


# -- tokens -----------------------------------------------------------------------------------


def test_a_401_refreshes_once_and_retries(qbo_session, qbo_tokens, fake_qbo_server):
    """A 401 (fault 3200) is answered by one refresh through the token store and a retry."""
    fake_qbo_server.expire_access_tokens()
    assert everything(qbo_session.fetch_list("payment_method", None))
    assert fake_qbo_server.token_calls == 1
    assert qbo_tokens.current().refresh_token == fake_qbo_server.latest["refresh_token"]
    assert qbo_tokens.current().refresh_expires_at is not None


def test_invalid_grant_on_refresh_means_the_connection_expired(qbo, fake_qbo_server, clock):
    """A refresh token QuickBooks rejects raises ConnectionExpired."""
    tokens = MemoryTokenStore(token_set("old", "stale-refresh", expires_at=clock.now()))
    with pytest.raises(base.ConnectionExpired):
        everything(qbo.session(fake_qbo_server.realm_id, tokens).fetch_list("account", None))


def test_a_403_means_the_connection_expired(qbo_session, fake_qbo_server):
    """A 403 (ApplicationAuthorizationFailed) raises ConnectionExpired."""
    fake_qbo_server.queue(
        "/query",
        fault(
            403,
            "3100",
            "ApplicationAuthorizationFailed",
            "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
            "AUTHORIZATION",
        ),
    )
    with pytest.raises(base.ConnectionExpired, match="ApplicationAuthorizationFailed"):
        everything(qbo_session.fetch_list("account", None))


# -- limits and failures ----------------------------------------------------------------------


def test_the_xml_throttle_body_is_recognised_and_waited_out(
    qbo_session, fake_qbo_server, fake_time
):
    """QuickBooks' XML ThrottleExceeded (3001) body is read even though JSON was asked for, and
    the request is retried after a wait."""
    fake_qbo_server.queue("/query", throttled_xml())
    assert everything(qbo_session.fetch_list("payment_method", None))
    assert fake_time.sleeps == [15.0]


def test_a_3001_fault_throttles_whatever_the_status(qbo_session, fake_qbo_server, fake_time):
    """A 3001 fault sent with another status (here 400) is still treated as a throttle, and
    Retry-After is honoured when present."""
    response = throttled_xml(400)
    response.headers["Retry-After"] = "4"
    fake_qbo_server.queue("/query", response)
    assert everything(qbo_session.fetch_list("payment_method", None))
    assert fake_time.sleeps == [4.0]


def test_persistent_throttling_raises_rate_limited(qbo_session, fake_qbo_server, fake_time):
    """Throttled again and again, the request gives up within its budget with RateLimited."""
    fake_qbo_server.queue("/query", *[throttled_xml() for _ in range(5)])
    with pytest.raises(base.RateLimited) as raised:
        everything(qbo_session.fetch_list("payment_method", None))
    assert raised.value.scope == "minute"
    assert fake_time.sleeps == [15.0, 15.0, 15.0]


def test_xml_faults_are_parsed():
    """The XML fault body yields its code, message and detail."""
    [parsed] = qbo_faults(throttled_xml())
    assert (parsed.code, parsed.detail) == ("3001", "The request limit was reached.")
    assert parsed.message.startswith("message=ThrottleExceeded")


def test_5xx_after_retries_and_malformed_json_are_provider_unavailable(
    qbo_session, fake_qbo_server
):
    """Repeated 500s, and a 200 that is not JSON, both raise ProviderUnavailable."""
    fake_qbo_server.queue("/query", *[httpx.Response(500)] * 4)
    with pytest.raises(base.ProviderUnavailable, match="HTTP 500"):
        everything(qbo_session.fetch_list("account", None))
    fake_qbo_server.queue("/query", httpx.Response(200, text="{not json"))
    with pytest.raises(base.ProviderUnavailable, match="unreadable"):
        everything(qbo_session.fetch_list("account", None))


# -- provider rules ---------------------------------------------------------------------------


def test_a_reference_longer_than_docnumber_allows_is_shortened_and_kept_in_the_memo(
    qbo_session, fake_qbo_server
):
    """DocNumber holds 21 characters: a longer reference is cut visibly to 21, the whole one
    goes in PrivateNote, and the published bill says what happened."""
    reference = "SUPPLIER-INVOICE-2026-000042"
    published = qbo_session.create_bill(_bill(reference=reference), idempotency_key="long-ref")
    body = json.loads(fake_qbo_server.api_requests("/bill")[-1].content)
    assert body["DocNumber"] == "SUPPLIER-INVOICE-2..." and len(body["DocNumber"]) == 21
    assert body["PrivateNote"] == f"Supplier's reference: {reference}"
    assert published.notes and "shortened to SUPPLIER-INVOICE-2..." in published.notes[0]
    exact = "R" * 21
    short = qbo_session.create_bill(_bill(reference=exact), idempotency_key="exact-ref")
    body = json.loads(fake_qbo_server.api_requests("/bill")[-1].content)
    assert body["DocNumber"] == exact and "PrivateNote" not in body and short.notes == ()


def test_non_us_companies_get_tax_calculation_and_gross_amounts_with_tax_codes(
    qbo_session, fake_qbo_server
):
    """Outside the US: a line with a tax code and amounts including tax is TaxInclusive with
    TaxInclusiveAmt (the gross); lines without tax codes are NotApplicable. CompanyInfo is
    read once per company."""
    fake_qbo_server.country = "GB"
    taxed = (base.BillLine("Lunch", Decimal("12.00"), account_code="6000", tax_code="2"),)
    qbo_session.create_bill(_bill(lines=taxed), idempotency_key="gb-1")
    body = json.loads(fake_qbo_server.api_requests("/bill")[-1].content)
    assert body["GlobalTaxCalculation"] == "TaxInclusive"
    detail = body["Line"][0]["AccountBasedExpenseLineDetail"]
    assert detail["TaxInclusiveAmt"] == 12.0 and detail["TaxCodeRef"] == {"value": "2"}
    qbo_session.create_bill(_bill(lines=taxed, amounts_include_tax=False), idempotency_key="gb-2")
    body = json.loads(fake_qbo_server.api_requests("/bill")[-1].content)
    assert body["GlobalTaxCalculation"] == "TaxExcluded"
    assert "TaxInclusiveAmt" not in body["Line"][0]["AccountBasedExpenseLineDetail"]
    qbo_session.create_bill(_bill(), idempotency_key="gb-3")
    body = json.loads(fake_qbo_server.api_requests("/bill")[-1].content)
    assert body["GlobalTaxCalculation"] == "NotApplicable"
    assert len(fake_qbo_server.api_requests(f"/companyinfo/{fake_qbo_server.realm_id}")) == 1


def test_us_companies_send_no_global_tax_calculation(qbo_session, fake_qbo_server):
    """A US company's bill, even with a tax code, carries no GlobalTaxCalculation and no
    TaxInclusiveAmt (the fake refuses GlobalTaxCalculation for US companies)."""
    taxed = (base.BillLine("Lunch", Decimal("12.00"), account_code="6000", tax_code="TAX"),)
    qbo_session.create_bill(_bill(lines=taxed), idempotency_key="us-1")
    body = json.loads(fake_qbo_server.api_requests("/bill")[-1].content)
    assert "GlobalTaxCalculation" not in body
    assert "TaxInclusiveAmt" not in body["Line"][0]["AccountBasedExpenseLineDetail"]


def test_accounts_by_id_skip_the_lookup_and_names_resolve_without_numbers(
    qbo_session, fake_qbo_server
):
    """A line with the account's Id is sent as is (no Account query); a line naming an account
    by name (no account number) finds its Id."""
    lines = (base.BillLine("Lunch", Decimal("5"), account_id="13"),)
    qbo_session.create_bill(_bill(lines=lines), idempotency_key="by-id")
    assert fake_qbo_server.api_requests("/query") == []
    named = (base.BillLine("Lunch", Decimal("5"), account_code="meals and entertainment"),)
    qbo_session.create_bill(_bill(lines=named), idempotency_key="by-name")
    body = json.loads(fake_qbo_server.api_requests("/bill")[-1].content)
    assert body["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"] == {"value": "13"}


def test_a_revocation_answered_400_is_a_failure(qbo, qbo_tokens, fake_qbo_server):
    """Intuit answers 400 when revocation fails: that is reported, not counted as revoked."""
    fake_qbo_server.revoke_status = 400
    with pytest.raises(base.ProviderError, match="did not revoke"):
        qbo.revoke(qbo_tokens.current())
    assert qbo_tokens.current().refresh_token in fake_qbo_server.refresh_tokens


def test_quickbooks_keeps_ten_requests_a_second():
    """The limiter models Intuit's per-second throttle as well as the per-minute one."""
    assert (RATE_LIMIT.per_second, RATE_LIMIT.per_minute) == (10, 500)
