"""Sandbox Books: the demo accounting system `ledgerlink demo` serves (see `playground`).

It is a provider like any other, reached only over HTTP through the injected `httpx.Client`:
OAuth 2.0 with PKCE through authlib, organisations from `/api/connections`, lists and writes
through `/api/orgs/{org}/...`. It belongs to the playground, not to `providers/`: the demo
hands it to `Runtime.open(extra_providers=...)`, and no environment variable turns it on, so a
production server never offers it.

Lists and where they come from (every list is incremental):

| kind | collection | code |
|---|---|---|
| account | `accounts` (bank accounts too) | `Code` |
| payment_method | `payment-methods` | none |
| supplier, customer | `contacts` (`IsSupplier`, `IsCustomer`) | none |
| tax_rate | `tax-rates` | `Code` |
| tracking | `tracking-categories`, one record per option | none |

A cursor is the organisation's change number at the time of the last fetch (`Snapshot`); the
next fetch asks for everything changed after it. Pages are read up to that snapshot, so a
change made while paging is picked up by the next sync and never half-read. As with Xero, an
incremental contact fetch reports contacts that are not (or no longer) members of the kind as
inactive.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from providers import base, http
from providers.grant import OAuthProvider

SERVICE = "Sandbox Books"
SCOPES = "offline_access ledger.read ledger.write"
RATE_LIMIT = http.RateLimit(per_minute=240, concurrent=5)
PAGE_SIZE = 200
IDEMPOTENCY_KEY_MAX = 128
REFRESH_TOKEN_LIFETIME = timedelta(days=60)

CAPABILITIES = base.Capabilities(
    pkce=True,
    bill_statuses=("DRAFT", "SUBMITTED", "AUTHORISED"),
    refresh_token_idle_days=60,
)

COLLECTIONS: dict[str, str] = {
    "account": "accounts",
    "payment_method": "payment-methods",
    "supplier": "contacts",
    "customer": "contacts",
    "tax_rate": "tax-rates",
    "tracking": "tracking-categories",
}


@dataclass(frozen=True)
class SandboxSettings:
    """Where Sandbox Books is and ledgerlink's client registration with it."""

    url: str  # the sandbox's base URL, e.g. http://127.0.0.1:3000/sandbox
    client_id: str
    client_secret: str = field(repr=False)


def sandbox_throttle(response: httpx.Response) -> http.Throttle | None:
    if response.status_code != 429:
        return None
    wait = http.retry_after_seconds(response.headers.get("Retry-After"), default=30.0)
    return http.Throttle(wait, "minute", inline=True)


def sandbox_error(response: httpx.Response) -> base.ProviderError:
    """The error for an answer that is neither a success nor handled by the session."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    message = body.get("Message") or f"{SERVICE} refused the request (HTTP {response.status_code})"
    if response.status_code in (401, 403) and body.get("Error") != "InsufficientScope":
        return base.ConnectionExpired(f"{SERVICE} no longer grants access ({message}); reconnect")
    messages = body.get("Messages")
    if isinstance(messages, list) and messages:
        return base.ValidationFailed([str(m) for m in messages])
    return base.ValidationFailed([str(message)])


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _refresh_lifetime(data: Mapping[str, Any]) -> timedelta:
    try:
        return timedelta(seconds=float(data["refresh_token_expires_in"]))
    except (KeyError, TypeError, ValueError):
        return REFRESH_TOKEN_LIFETIME


class SandboxProvider(OAuthProvider):
    name = "sandbox"
    display_name = SERVICE
    capabilities = CAPABILITIES
    rules = http.ApiRules(RATE_LIMIT, sandbox_throttle, _refresh_lifetime)

    def __init__(self, config: base.ProviderConfig, settings: SandboxSettings, **parts):
        self._settings = settings
        self._base = settings.url.rstrip("/")
        super().__init__(config, **parts)

    def _oauth_settings(self, config: base.ProviderConfig) -> http.OAuthSettings:
        oauth = f"{self._base}/oauth"
        return self._login(config, self._settings, f"{oauth}/authorize", f"{oauth}/token", SCOPES)

    # -- the grant ----------------------------------------------------------------------------

    def list_tenants(self, tokens: base.TokenSet) -> tuple[base.Tenant, ...]:
        orgs = self._bearer_get(f"{self._base}/api/connections", tokens, error=sandbox_error)
        if not isinstance(orgs, list):
            raise base.ValidationFailed([f"{SERVICE} sent an unexpected list of organisations"])
        return tuple(
            base.Tenant(id=org["OrgID"], name=org.get("Name") or org["OrgID"])
            for org in orgs
            if isinstance(org, dict) and org.get("OrgID")
        )

    def revoke(self, tokens: base.TokenSet) -> None:
        """Revoke the refresh token: Sandbox Books ends the whole grant."""
        self.oauth.revoke(f"{self._base}/oauth/revoke", tokens.refresh_token)

    def session(self, tenant_id: str, tokens: base.TokenStore) -> SandboxSession:
        return SandboxSession(
            self._api_session(tenant_id, tokens, {}),
            base_url=f"{self._base}/api/orgs/{tenant_id}",
        )


class SandboxSession:
    """Work against one Sandbox Books organisation."""

    def __init__(self, api: http.ApiSession, *, base_url: str):
        self._api = api
        self._base_url = base_url

    def __repr__(self) -> str:
        return "<SandboxSession>"

    # -- lists --------------------------------------------------------------------------------

    def fetch_list(self, kind: base.ListKind, cursor: str | None) -> base.ListFetch:
        if kind not in COLLECTIONS:
            raise ValueError(f"unknown list kind {kind!r}")
        since = int(cursor) if cursor and cursor.isdigit() else None
        first = self._page(COLLECTIONS[kind], since or 0, None)
        # The snapshot of the first page is the cursor: known before the pages are stored.
        snapshot = int(first["Snapshot"])
        return base.ListFetch(
            kind=kind,
            full=since is None,
            cursor=str(snapshot),
            pages=self._records(kind, first, snapshot, incremental=since is not None),
        )

    def _page(self, collection: str, since: int, until: int | None) -> dict[str, Any]:
        params: dict[str, Any] = {"since": since, "limit": PAGE_SIZE}
        if until is not None:
            params["until"] = until
        return self._ok(self._api.request("GET", f"{self._base_url}/{collection}", params=params))

    def _records(
        self, kind: base.ListKind, page: dict[str, Any], snapshot: int, *, incremental: bool
    ) -> Iterator[list[base.Record]]:
        while True:
            records = [
                record
                for item in page.get("Items") or []
                if isinstance(item, dict)
                for record in _records(kind, item, incremental=incremental)
            ]
            if records:
                yield records
            if not page.get("HasMore") or page.get("NextSince") is None:
                return
            page = self._page(COLLECTIONS[kind], int(page["NextSince"]), snapshot)

    # -- suppliers ----------------------------------------------------------------------------

    def create_supplier(self, name: str, *, idempotency_key: str) -> base.Record:
        name = base.supplier_name(name)
        response = self._api.request(
            "POST",
            f"{self._base_url}/contacts",
            json={"Name": name, "IsSupplier": True},
            headers={"Idempotency-Key": _key(idempotency_key)},
        )
        if response.status_code == 409:
            body = http.read_object(response, SERVICE)
            existing = body.get("Existing")
            if isinstance(existing, dict) and existing.get("ContactID"):
                raise base.DuplicateName(_contact("supplier", existing, member=True))
        contact = self._ok(response).get("Contact")
        if not isinstance(contact, dict) or not contact.get("ContactID"):
            raise base.ValidationFailed([f"{SERVICE} did not say which contact it created"])
        return _contact("supplier", contact, member=True)

    # -- bills --------------------------------------------------------------------------------

    def create_bill(self, bill: base.Bill, *, idempotency_key: str) -> base.PublishedBill:
        base.require_lines(bill)
        body: dict[str, Any] = {
            "ContactID": bill.supplier_id,
            "Date": bill.date.isoformat(),
            "Status": bill.status,
            "LineAmountTypes": "Inclusive" if bill.amounts_include_tax else "Exclusive",
            "Lines": [_line(line) for line in bill.lines],
        }
        if bill.due_date:
            body["DueDate"] = bill.due_date.isoformat()
        if bill.reference:
            body["Reference"] = bill.reference
        if bill.currency:
            body["Currency"] = bill.currency.upper()
        response = self._api.request(
            "POST",
            f"{self._base_url}/bills",
            json=body,
            headers={"Idempotency-Key": _key(idempotency_key)},
        )
        created = self._ok(response).get("Bill")
        if not isinstance(created, dict) or not created.get("BillID"):
            raise base.ValidationFailed([f"{SERVICE} did not say which bill it created"])
        return base.PublishedBill(
            remote_id=created["BillID"], url=created.get("Url"), number=created.get("Number")
        )

    @staticmethod
    def _ok(response: httpx.Response) -> dict[str, Any]:
        if not response.is_success:
            raise sandbox_error(response)
        return http.read_object(response, SERVICE)


def _key(idempotency: str) -> str:
    return http.idempotency_key(idempotency, IDEMPOTENCY_KEY_MAX)


def _records(
    kind: base.ListKind, item: Mapping[str, Any], *, incremental: bool
) -> list[base.Record]:
    if kind in ("supplier", "customer"):
        member = bool(item.get("IsCustomer" if kind == "customer" else "IsSupplier"))
        return [_contact(kind, item, member=member)] if member or incremental else []
    if kind == "tracking":
        return _tracking(item)
    active = item.get("Status", "ACTIVE") == "ACTIVE"
    if kind == "account":
        return [_record(kind, item["AccountID"], item.get("Name"), item.get("Code"), active, item)]
    if kind == "payment_method":
        return [_record(kind, item["PaymentMethodID"], item.get("Name"), None, active, item)]
    return [_record(kind, item["Code"], item.get("Name"), item["Code"], active, item)]


def _record(kind, remote_id, name, code, active, item) -> base.Record:
    return base.Record(
        kind=kind,
        remote_id=str(remote_id),
        name=name or "",
        code=code or None,
        active=active,
        updated_at=_when(item.get("UpdatedAt")),
        raw=item,
    )


def _contact(kind: base.ListKind, contact: Mapping[str, Any], *, member: bool) -> base.Record:
    return _record(
        kind,
        contact["ContactID"],
        (contact.get("Name") or "").strip(),
        None,
        member and contact.get("Status", "ACTIVE") == "ACTIVE",
        contact,
    )


def _tracking(category: Mapping[str, Any]) -> list[base.Record]:
    category_only = {k: v for k, v in category.items() if k != "Options"}
    return [
        base.tracking_record(
            category_id=category["TrackingCategoryID"],
            category_name=category.get("Name") or "",
            option_id=option["TrackingOptionID"],
            option_name=option.get("Name") or "",
            active=category.get("Status") == "ACTIVE" and option.get("Status") == "ACTIVE",
            updated_at=_when(category.get("UpdatedAt")),
            category=category_only,
            option=option,
        )
        for option in category.get("Options") or []
        if isinstance(option, dict) and option.get("TrackingOptionID")
    ]


def _line(line: base.BillLine) -> dict[str, Any]:
    item: dict[str, Any] = {"Description": line.description, "Amount": str(line.amount)}
    if line.account_code:
        item["AccountCode"] = line.account_code
    if line.tax_code:
        item["TaxCode"] = line.tax_code
    if line.tracking:
        item["Tracking"] = [
            {"TrackingCategoryID": ref.category_id, "TrackingOptionID": ref.option_id}
            for ref in line.tracking
        ]
    return item
