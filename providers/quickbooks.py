"""QuickBooks Online: OAuth 2.0, one company (realm) per grant, the Accounting API v3.

The company is the `realmId` on the OAuth callback; its name comes from CompanyInfo. Every call
goes to `{qbo_api_url}/v3/company/{realmId}/...` with `minorversion=75`.

Lists and where they come from (full: the query endpoint, pages of 1000, inactive included;
incremental: the CDC endpoint):

| kind | entities | code |
|---|---|---|
| account | Account | `AcctNum` when set, else the Id |
| supplier, customer | Vendor, Customer | none |
| tax_rate | TaxCode (CDC does not cover it: always fetched whole) | the Id |
| tracking | Class ("Class") and Department ("Location"), one record per class / department | |
| payment_method | PaymentMethod | none |

An incremental fetch asks CDC for changes since the cursor; it falls back to a full fetch when
the cursor is older than CDC's 30-day look-back, or when the answer holds 1000 objects (CDC's cap
per answer, so changes may have been cut off). Objects CDC reports as deleted come back inactive.

Decisions:
* PKCE is off by default (`pkce=False`): ledgerlink is a confidential client that authenticates
  with its client secret and checks `state`, which is the flow Intuit documents; it can be
  turned on with the constructor flag, and `capabilities.pkce` says which is in use.
* A bill line names its account by `account_id` (the synced chart's Id, resolved when the item
  was accepted, so a rename since does not matter); without one, `account_code` is matched like
  the records' codes (`AcctNum` first, then the Id) and then by unique name -- most companies
  have no account numbers, and their users know accounts by name.
* A supplier's reference longer than QuickBooks' 21-character `DocNumber` is shortened visibly
  ("...") and kept whole in the bill's memo (`PrivateNote`); `PublishedBill.notes` says so.
* Tax: `GlobalTaxCalculation` is left out for US companies (Intuit: not applicable to them);
  elsewhere it follows the bill's lines (see `create_bill`). The country is CompanyInfo's.
* Rate limits: 500 requests a minute and 10 a second per company, 10 in flight.
* QuickBooks bills have no draft or approval state: every bill is created open
  (`capabilities.bill_statuses == ("AUTHORISED",)`) and `Bill.status` is not sent.
* Tracking: a class is set per line (`ClassRef`); a department/location belongs to the whole
  bill (`DepartmentRef`), so lines naming different locations are refused.
* Revocation posts `{"token": refresh_token}` as JSON to `revoke_url` (a constructor argument,
  default `DEFAULT_REVOKE_URL`), as Intuit documents it; only a 200 means revoked (Intuit answers
  400 when revocation fails).
"""

from __future__ import annotations

import dataclasses
import html
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from providers import base, http
from providers.clock import Clock
from providers.grant import OAuthProvider

log = logging.getLogger("ledgerlink.providers")

SERVICE = "QuickBooks"
SCOPE = "com.intuit.quickbooks.accounting"
DEFAULT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
DEFAULT_REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
APP_URLS = {
    "production": "https://app.qbo.intuit.com",
    "sandbox": "https://app.sandbox.qbo.intuit.com",
}
# Intuit's "API call limits and throttles": "500 requests per minute per realm ID" and "10
# requests per second, per realm ID and app" (and at most 10 concurrent requests).
RATE_LIMIT = http.RateLimit(per_minute=500, concurrent=10, per_second=10)
# "The string length specified does not match the supported length. Min:0 Max:21 supported."
# (QuickBooks' answer, error 2050, to a longer DocNumber.) Xero's InvoiceNumber takes 255.
DOC_NUMBER_MAX = 21
SHORTENED = "..."
US = "US"
MINOR_VERSION = "75"
PAGE_SIZE = 1000
CDC_LOOKBACK = timedelta(days=30)
CDC_MARGIN = timedelta(hours=1)  # stay clear of the look-back edge
CDC_CAP = 1000
OVERLAP = timedelta(minutes=5)  # look a little before the cursor: clock skew must lose nothing
THROTTLE_WAIT = 15.0  # seconds, when a throttle answer carries no Retry-After
IDEMPOTENCY_KEY_MAX = 50  # Intuit's limit for `requestid`
REFRESH_TOKEN_LIFETIME = timedelta(days=100)  # rolling, when the answer does not say
DUPLICATE_NAME = "6240"
THROTTLED = "3001"

CAPABILITIES = base.Capabilities(
    pkce=False,
    bill_statuses=("AUTHORISED",),
    refresh_token_idle_days=100,
)

ENTITIES: dict[str, tuple[str, ...]] = {
    "account": ("Account",),
    "supplier": ("Vendor",),
    "customer": ("Customer",),
    "tax_rate": ("TaxCode",),
    "tracking": ("Class", "Department"),
    "payment_method": ("PaymentMethod",),
}
NOT_IN_CDC = {"TaxCode"}
TRACKING_CATEGORIES = {"Class": ("class", "Class"), "Department": ("department", "Location")}


# ---------------------------------------------------------------------------------------------
# Faults


@dataclass(frozen=True)
class Fault:
    code: str
    message: str
    detail: str

    @property
    def text(self) -> str:
        if self.message and self.detail and not self.detail.startswith(self.message):
            return f"{self.message}: {self.detail}"
        return self.detail or self.message or f"QuickBooks error {self.code}"


_XML_ERROR = re.compile(r"<(?:\w+:)?Error\b([^>]*)>(.*?)</(?:\w+:)?Error>", re.S)
_XML_CODE = re.compile(r"\bcode\s*=\s*[\"']([^\"']*)[\"']")


def _xml_text(tag: str, body: str) -> str:
    match = re.search(rf"<(?:\w+:)?{tag}>(.*?)</(?:\w+:)?{tag}>", body, re.S)
    return html.unescape(match.group(1)).strip() if match else ""


def qbo_faults(response: httpx.Response) -> list[Fault]:
    """The `Fault.Error[]` of a QuickBooks answer, JSON or XML (throttles come as XML)."""
    try:
        body = response.json()
    except ValueError:
        # Read with patterns rather than an XML parser: only a few fields are needed, and
        # untrusted XML is best not parsed at all.
        return [
            Fault(
                code=_code(m.group(1)),
                message=_xml_text("Message", m.group(2)),
                detail=_xml_text("Detail", m.group(2)),
            )
            for m in _XML_ERROR.finditer(response.text)
        ]
    if not isinstance(body, dict):
        return []
    fault = body.get("Fault") or body.get("fault")
    if not isinstance(fault, dict):
        return []
    errors = fault.get("Error") or fault.get("error") or []
    if not isinstance(errors, list):
        return []
    return [
        Fault(
            code=str(error.get("code") or "").lstrip("0"),
            message=str(error.get("Message") or error.get("message") or ""),
            detail=str(error.get("Detail") or error.get("detail") or ""),
        )
        for error in errors
        if isinstance(error, dict)
    ]


def _code(attributes: str) -> str:
    match = _XML_CODE.search(attributes)
    return match.group(1).lstrip("0") if match else ""


def qbo_throttle(response: httpx.Response) -> http.Throttle | None:
    """HTTP 429, or fault 3001 (ThrottleExceeded) whatever the status says."""
    if response.status_code < 400:
        return None
    if response.status_code != 429 and not any(
        fault.code == THROTTLED for fault in qbo_faults(response)
    ):
        return None
    retry_after = http.retry_after_seconds(
        response.headers.get("Retry-After"), default=THROTTLE_WAIT
    )
    return http.Throttle(retry_after, "minute", inline=True)


def qbo_error(response: httpx.Response) -> base.ProviderError:
    """The error for a QuickBooks answer that is neither a success nor handled by the session."""
    messages = [fault.text for fault in qbo_faults(response)]
    status = response.status_code
    if status in (401, 403):
        reason = "; ".join(messages) or f"HTTP {status}"
        return base.ConnectionExpired(
            f"QuickBooks no longer grants access to this company ({reason}); reconnect"
        )
    return base.ValidationFailed(messages or [f"QuickBooks refused the request (HTTP {status})"])


def _refresh_lifetime(data: Mapping[str, Any]) -> timedelta:
    """The sooner of the rolling expiry and the five-year hard expiry, when given."""
    seconds = []
    for key in ("x_refresh_token_expires_in", "x_refresh_token_hard_expires_in"):
        try:
            seconds.append(float(data[key]))
        except (KeyError, TypeError, ValueError):
            continue
    return timedelta(seconds=min(seconds)) if seconds else REFRESH_TOKEN_LIFETIME


def _quote(value: str) -> str:
    """A string literal for QuickBooks' query language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# The provider


class QuickBooksProvider(OAuthProvider):
    name = "quickbooks"
    display_name = SERVICE
    rules = http.ApiRules(RATE_LIMIT, qbo_throttle, _refresh_lifetime)

    def __init__(
        self,
        config: base.ProviderConfig,
        *,
        revoke_url: str = DEFAULT_REVOKE_URL,
        pkce: bool = False,
        **parts,
    ):
        self.capabilities = dataclasses.replace(CAPABILITIES, pkce=pkce)
        self._revoke_url = revoke_url
        self._app_url = APP_URLS.get(config.qbo_environment, APP_URLS["production"])
        self._countries: dict[str, str] = {}  # realm -> CompanyInfo.Country, read once
        super().__init__(config, **parts)

    def _oauth_settings(self, config: base.ProviderConfig) -> http.OAuthSettings:
        return self._login(
            config,
            config.quickbooks,
            authorize_url=config.qbo_auth_url,
            token_url=config.qbo_token_url,
            scope=SCOPE,
            token_headers={"x-include-refresh-token-hard-expires-in": "true"},
        )

    # -- the grant ----------------------------------------------------------------------------

    def exchange_code(
        self, code: str, *, code_verifier: str | None, callback_params: Mapping[str, str]
    ) -> base.Grant:
        self._refuse_denied(callback_params)
        realm_id = callback_params.get("realmId")
        if not realm_id:
            raise base.ValidationFailed(
                ["QuickBooks did not say which company was connected (no realmId on the callback)"]
            )
        tokens = self.oauth.exchange_code(code, code_verifier)
        return base.Grant(tokens=tokens, tenants=self.list_tenants(tokens, realm_id=realm_id))

    def list_tenants(
        self, tokens: base.TokenSet, *, realm_id: str | None = None
    ) -> tuple[base.Tenant, ...]:
        """The company `realm_id` with its name; QuickBooks cannot list companies from a token,
        so without a realm id there is nothing to list."""
        if not realm_id:
            return ()
        company = self._bearer_get(
            f"{self._config.qbo_api_url}/v3/company/{realm_id}/companyinfo/{realm_id}",
            tokens,
            error=qbo_error,
            params={"minorversion": MINOR_VERSION},
            read=http.read_object,
        )
        info = company.get("CompanyInfo") or {}
        name = info.get("CompanyName") or info.get("LegalName") or realm_id
        return (base.Tenant(id=realm_id, name=name),)

    def revoke(self, tokens: base.TokenSet) -> None:
        """Only a 200 counts as revoked: Intuit answers 400 when a revocation fails, so unlike
        RFC 7009 servers (where Xero's client treats 400 as an unknown, hence dead, token) a
        400 here means the grant may still be live, and the caller is told it failed."""
        response = self._retrier.send(
            lambda: self._http.post(
                self._revoke_url,
                json={"token": tokens.refresh_token},
                headers={"Accept": "application/json"},
                auth=self.oauth.client_auth(),
            )
        )
        if response.status_code not in (200, 204):
            raise base.ProviderError(
                f"QuickBooks did not revoke the connection (HTTP {response.status_code})"
            )

    def session(self, tenant_id: str, tokens: base.TokenStore) -> QuickBooksSession:
        return QuickBooksSession(
            self._api_session(tenant_id, tokens, {}),
            base_url=f"{self._config.qbo_api_url}/v3/company/{tenant_id}",
            clock=self._clock,
            app_url=self._app_url,
            realm_id=tenant_id,
            countries=self._countries,
        )


class QuickBooksSession:
    """Work against one QuickBooks company."""

    def __init__(
        self,
        api: http.ApiSession,
        *,
        base_url: str,
        clock: Clock,
        app_url: str,
        realm_id: str = "",
        countries: dict[str, str] | None = None,
    ):
        self._api = api
        self._base_url = base_url
        self._clock = clock
        self._app_url = app_url
        self._realm_id = realm_id
        self._countries = {} if countries is None else countries
        self._account_ids: dict[str, str] | None = None

    def __repr__(self) -> str:
        return "<QuickBooksSession>"

    # -- lists --------------------------------------------------------------------------------

    def fetch_list(self, kind: base.ListKind, cursor: str | None) -> base.ListFetch:
        if kind not in ENTITIES:
            raise ValueError(f"unknown list kind {kind!r}")
        entities = ENTITIES[kind]
        since = http.parse_cursor(cursor)
        started = self._clock.now()
        if since is not None and not NOT_IN_CDC.intersection(entities):
            look_from = since - OVERLAP
            if look_from > started - CDC_LOOKBACK + CDC_MARGIN:
                changed = self._changes(kind, entities, look_from)
                if changed is not None:
                    return base.ListFetch(
                        kind=kind,
                        full=False,
                        cursor=http.make_cursor(started),
                        pages=iter([changed] if changed else []),
                    )
        return base.ListFetch(
            kind=kind,
            full=True,
            cursor=http.make_cursor(started),
            pages=self._full_pages(kind, entities),
        )

    def _changes(
        self, kind: base.ListKind, entities: tuple[str, ...], look_from: datetime
    ) -> list[base.Record] | None:
        """Changed records from CDC, or None when the answer may have been cut off."""
        data = self._get(
            "cdc",
            {
                "entities": ",".join(entities),
                "changedSince": look_from.isoformat(timespec="seconds"),
            },
        )
        objects = [
            (entity, obj)
            for block in data.get("CDCResponse") or []
            if isinstance(block, dict)
            for answer in block.get("QueryResponse") or []
            if isinstance(answer, dict)
            for entity in entities
            for obj in answer.get(entity) or []
            if isinstance(obj, dict)
        ]
        if len(objects) >= CDC_CAP:
            log.info("QuickBooks CDC answer hit its cap for %s; fetching the whole list", kind)
            return None
        return [_record(kind, entity, obj) for entity, obj in objects]

    def _full_pages(
        self, kind: base.ListKind, entities: tuple[str, ...]
    ) -> Iterator[list[base.Record]]:
        for entity in entities:
            for objects in self._query_pages(entity):
                yield [_record(kind, entity, obj) for obj in objects]

    def _query_pages(
        self, entity: str, where: str = "Active IN (true, false)"
    ) -> Iterator[list[dict]]:
        start = 1
        while True:
            # QuickBooks' own query language, not SQL; values in `where` go through _quote.
            answer = self._query(
                f"SELECT * FROM {entity} WHERE {where} "  # noqa: S608
                f"STARTPOSITION {start} MAXRESULTS {PAGE_SIZE}"
            )
            # QueryResponse has no key for the entity at all when nothing matched.
            objects = [obj for obj in answer.get(entity) or [] if isinstance(obj, dict)]
            if objects:
                yield objects
            if len(objects) < PAGE_SIZE:
                return
            start += PAGE_SIZE

    def _query(self, statement: str) -> dict[str, Any]:
        answer = self._get("query", {"query": statement}).get("QueryResponse")
        return answer if isinstance(answer, dict) else {}

    # -- suppliers ----------------------------------------------------------------------------

    def create_supplier(self, name: str, *, idempotency_key: str) -> base.Record:
        name = base.supplier_name(name)
        response = self._post("vendor", {"DisplayName": name}, idempotency_key)
        if not response.is_success:
            faults = qbo_faults(response)
            if any(fault.code == DUPLICATE_NAME for fault in faults):
                existing = self.find_vendor(name)
                if existing is not None:
                    raise base.DuplicateName(existing)
                # The name belongs to a customer or an employee: QuickBooks' words say so.
            raise qbo_error(response)
        vendor = http.read_object(response, SERVICE).get("Vendor")
        if not isinstance(vendor, dict) or not vendor.get("Id"):
            raise base.ValidationFailed(["QuickBooks did not say which supplier it created"])
        return _record("supplier", "Vendor", vendor)

    def find_vendor(self, name: str) -> base.Record | None:
        """The vendor whose DisplayName is `name`, preferring an active one."""
        where = f"DisplayName = {_quote(name)} AND Active IN (true, false)"
        vendors = [obj for page in self._query_pages("Vendor", where) for obj in page]
        if not vendors:
            return None
        vendors.sort(key=lambda vendor: vendor.get("Active") is False)
        return _record("supplier", "Vendor", vendors[0])

    # -- bills --------------------------------------------------------------------------------

    def create_bill(self, bill: base.Bill, *, idempotency_key: str) -> base.PublishedBill:
        base.require_lines(bill)
        us = self._country() == US
        taxed = any(line.tax_code for line in bill.lines)
        lines, departments = [], set()
        for line in bill.lines:
            account = line.account_id or self._account_id(line.account_code)
            detail: dict[str, Any] = {"AccountRef": {"value": account}}
            if line.tax_code:
                detail["TaxCodeRef"] = {"value": line.tax_code}
                if not us and bill.amounts_include_tax:
                    # Intuit's reference (global companies): "For AU locale: On the transaction
                    # line, if GlobalTaxCalculation is TaxInclusive and TaxCodeRef is specified,
                    # TaxInclusiveAmt is required" -- the line's gross amount, the receipt's
                    # total, from which QuickBooks works out the net and the tax (with
                    # TaxInclusive, `Amount` alone could be read as the net).
                    detail["TaxInclusiveAmt"] = float(line.amount)
            for ref in line.tracking:
                if ref.category_id == "class":
                    detail["ClassRef"] = {"value": ref.option_id}
                elif ref.category_id == "department":
                    departments.add(ref.option_id)
                else:
                    raise base.ValidationFailed(
                        [
                            f"QuickBooks has no tracking category "
                            f"{ref.category_name or ref.category_id}"
                        ]
                    )
            entry: dict[str, Any] = {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": float(line.amount),
                "AccountBasedExpenseLineDetail": detail,
            }
            if line.description:
                entry["Description"] = line.description
            lines.append(entry)
        if len(departments) > 1:
            raise base.ValidationFailed(
                ["QuickBooks sets one location for a whole bill, and these lines name several"]
            )
        body: dict[str, Any] = {
            "VendorRef": {"value": bill.supplier_id},
            "TxnDate": bill.date.isoformat(),
            "Line": lines,
        }
        if not us:
            # Intuit's Bill reference marks GlobalTaxCalculation as not applicable to US
            # companies (US sales tax is QuickBooks' own automated calculation), so US bills
            # leave it out. Elsewhere a bill
            # without a tax code carries no tax ("NotApplicable"), so the receipt's total is the
            # line amount as sent; with a tax code it says whether the amounts include the tax.
            if not taxed:
                body["GlobalTaxCalculation"] = "NotApplicable"
            else:
                body["GlobalTaxCalculation"] = (
                    "TaxInclusive" if bill.amounts_include_tax else "TaxExcluded"
                )
        notes: tuple[str, ...] = ()
        if bill.reference:
            number = bill.reference
            if len(number) > DOC_NUMBER_MAX:
                # Shortened visibly; the whole reference goes in the bill's memo.
                number = number[: DOC_NUMBER_MAX - len(SHORTENED)] + SHORTENED
                body["PrivateNote"] = f"Supplier's reference: {bill.reference}"
                notes = (
                    f"QuickBooks bill numbers hold {DOC_NUMBER_MAX} characters, so the "
                    f"reference was shortened to {number}; the whole reference is in the "
                    "bill's memo",
                )
            body["DocNumber"] = number
        if bill.due_date:
            body["DueDate"] = bill.due_date.isoformat()
        if bill.currency:
            body["CurrencyRef"] = {"value": bill.currency.upper()}
        if departments:
            body["DepartmentRef"] = {"value": departments.pop()}
        response = self._post("bill", body, idempotency_key)
        if not response.is_success:
            raise qbo_error(response)
        created = http.read_object(response, SERVICE).get("Bill")
        if not isinstance(created, dict) or not created.get("Id"):
            raise base.ValidationFailed(["QuickBooks did not say which bill it created"])
        return base.PublishedBill(
            remote_id=str(created["Id"]),
            url=f"{self._app_url}/app/bill?txnId={created['Id']}",
            number=created.get("DocNumber") or None,
            notes=notes,
        )

    def _country(self) -> str:
        """The company's country (CompanyInfo.Country), read once per company and process."""
        country = self._countries.get(self._realm_id)
        if country is None:
            info = self._get(f"companyinfo/{self._realm_id}", {}).get("CompanyInfo") or {}
            country = str(info.get("Country") or "").upper()
            self._countries[self._realm_id] = country
        return country

    def _account_id(self, code: str | None) -> str:
        """The Id of the account a line names by number, Id or name (when the caller has no
        id from the synced chart): account numbers first, then ids, then unique names."""
        if not code:
            raise base.ValidationFailed(["QuickBooks needs an expense account on every bill line"])
        if self._account_ids is None:
            ids: dict[str, str] = {}
            accounts = [obj for page in self._query_pages("Account") for obj in page]
            names: dict[str, list[str]] = {}
            for account in accounts:
                for name in {account.get("Name"), account.get("FullyQualifiedName")} - {None}:
                    names.setdefault(str(name).casefold(), []).append(str(account["Id"]))
            for name, found in names.items():
                if len(set(found)) == 1:
                    ids[name] = found[0]
            for account in accounts:
                ids[str(account["Id"])] = str(account["Id"])
            for account in accounts:  # account numbers win over ids, as in the records
                if account.get("AcctNum"):
                    ids[str(account["AcctNum"])] = str(account["Id"])
            self._account_ids = ids
        found = self._account_ids.get(code) or self._account_ids.get(code.casefold())
        if found is None:
            raise base.ValidationFailed([f"QuickBooks has no account with number or name {code}"])
        return found

    # -- requests -----------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        response = self._api.request(
            "GET", f"{self._base_url}/{path}", params={**params, "minorversion": MINOR_VERSION}
        )
        if not response.is_success:
            raise qbo_error(response)
        return http.read_object(response, SERVICE)

    def _post(self, path: str, body: Mapping[str, Any], key: str) -> httpx.Response:
        # `requestid` makes the create idempotent: QuickBooks answers a repeat with the
        # original answer, so retries after a timeout cannot create twice.
        return self._api.request(
            "POST",
            f"{self._base_url}/{path}",
            json=body,
            params={
                "minorversion": MINOR_VERSION,
                "requestid": http.idempotency_key(key, IDEMPOTENCY_KEY_MAX),
            },
        )


def _name(entity: str, obj: Mapping[str, Any]) -> str:
    if entity in ("Vendor", "Customer"):
        return obj.get("DisplayName") or obj.get("CompanyName") or ""
    return obj.get("FullyQualifiedName") or obj.get("Name") or ""


# What ledgerlink reads of each entity; only these are stored.
KEPT_FIELDS = {
    "Account": (
        "Id",
        "Name",
        "FullyQualifiedName",
        "AcctNum",
        "AccountType",
        "Classification",
        "Active",
        "CurrencyRef",
    ),
    "Vendor": ("Id", "DisplayName", "CompanyName", "Active", "CurrencyRef"),
    "Customer": ("Id", "DisplayName", "CompanyName", "Active"),
}


def _record(kind: base.ListKind, entity: str, obj: Mapping[str, Any]) -> base.Record:
    deleted = str(obj.get("status") or "").lower() == "deleted"
    active = not deleted and obj.get("Active", True) is not False
    updated = _parse_time((obj.get("MetaData") or {}).get("LastUpdatedTime"))
    remote_id = str(obj["Id"])
    if kind == "tracking":
        category_id, category_name = TRACKING_CATEGORIES[entity]
        return base.tracking_record(
            category_id=category_id,
            category_name=category_name,
            option_id=remote_id,
            option_name=_name(entity, obj),
            active=active,
            updated_at=updated,
            category={"Id": category_id, "Name": category_name, "Entity": entity},
            option=obj,
        )
    code = None
    if entity == "Account":
        code = str(obj.get("AcctNum") or remote_id)
    elif entity == "TaxCode":
        code = remote_id
    fields = KEPT_FIELDS.get(entity)
    return base.Record(
        kind=kind,
        remote_id=remote_id,
        name=_name(entity, obj),
        code=code,
        active=active,
        updated_at=updated,
        raw={k: obj[k] for k in fields if k in obj} if fields else obj,
    )
