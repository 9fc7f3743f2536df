"""Xero: OAuth 2.0 with PKCE, organisations from /connections, the Accounting API 2.0.

Lists and where they come from:

| kind | endpoint | incremental |
|---|---|---|
| supplier, customer | `/Contacts` (paged, pageSize 1000, archived included) | If-Modified-Since |
| account | `/Accounts` (the whole chart, bank accounts too) | If-Modified-Since |
| payment_method | `/Accounts`, the `Type: BANK` ones | If-Modified-Since |
| tax_rate | `/TaxRates` (code and id are the TaxType) | no: always whole |
| tracking | `/TrackingCategories?includeArchived=true`, a record per option | no: always whole |

Xero's OpenAPI spec (v16.1.0) documents If-Modified-Since on /Contacts and /Accounts only, so
tax rates and tracking categories are always fetched whole and reported as full lists.

Suppliers and customers are both contacts. Xero sets `IsSupplier` only once a bill exists, so a
contact created as a supplier starts with neither flag: ledgerlink counts every contact that is
not a customer only (`IsSupplier or not IsCustomer`) as a supplier, and every `IsCustomer`
contact as a customer (a contact can be both). A full fetch lists only the members of the
kind; an incremental fetch reports every changed contact, the ones not (or no longer) members
as inactive, so a supplier that became a customer only does not stay an active supplier.
`ContactStatus` other than ACTIVE (ARCHIVED, GDPRREQUEST) means inactive.

One pass per list: a sync reads /Contacts once for suppliers and customers together, and
/Accounts once for the chart and the payment accounts (`fetch_lists`, `LIST_GROUPS`), so a
no-change refresh costs one request per list. Xero sets the flags itself: the Contacts
documentation says `IsSupplier` "Cannot be set via PUT or POST - it is automatically set when
an accounts payable invoice is generated against this contact". A contact whose only change is
such a flag is not returned by an If-Modified-Since read, so incremental reads alone would
leave suppliers and customers stale: the sync engine reads every list whole on a schedule
(`bot.sync.FULL_REREAD`, weekly) to catch such changes.

Rate limits (Xero's "API Limits": "Concurrent Limit: 5 calls in progress at one time",
"Minute Limit: 60 calls per minute", "Daily Limit: 5000 calls per day", per organisation)
are all kept by the client's limiter: the minute limit is waited out, the daily one defers
the sync until the day's window has room.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from providers import base, http
from providers.clock import Clock
from providers.grant import OAuthProvider

SERVICE = "Xero"
RATE_LIMIT = http.RateLimit(per_minute=60, concurrent=5, per_day=5000)
PAGE_SIZE = 1000
# The provider lists a sync reads, each once: a /Contacts pass gives suppliers and customers,
# an /Accounts pass the chart of accounts and the payment (bank) accounts.
ACCOUNTS: tuple[base.ListKind, ...] = ("account", "payment_method")
CONTACTS: tuple[base.ListKind, ...] = ("supplier", "customer")
LIST_GROUPS: tuple[tuple[base.ListKind, ...], ...] = (
    ACCOUNTS,
    CONTACTS,
    ("tax_rate",),
    ("tracking",),
)
# What ledgerlink reads of a contact and of an account (matching, default accounts, the
# categories' resolution); only these are stored, so a sync of 100k contacts stays light.
CONTACT_FIELDS = (
    "ContactID",
    "Name",
    "ContactStatus",
    "AccountNumber",
    "IsSupplier",
    "IsCustomer",
    "UpdatedDateUTC",
    "PurchasesDefaultAccountCode",
)
ACCOUNT_FIELDS = (
    "AccountID",
    "Code",
    "Name",
    "Type",
    "Class",
    "Status",
    "TaxType",
    "CurrencyCode",
    "BankAccountNumber",
    "UpdatedDateUTC",
)
# Incremental fetches look a little further back than the cursor, so a clock skew between
# ledgerlink and Xero cannot lose a change; seeing a record twice is harmless.
OVERLAP = timedelta(minutes=5)
REFRESH_TOKEN_LIFETIME = timedelta(days=60)  # unused refresh tokens die after 60 days
IDEMPOTENCY_KEY_MAX = 128
BILL_URL = "https://go.xero.com/AccountsPayable/View.aspx?InvoiceID={}"

CAPABILITIES = base.Capabilities(
    pkce=True,
    bill_statuses=("DRAFT", "SUBMITTED", "AUTHORISED"),
    refresh_token_idle_days=60,
)

_MS_DATE = re.compile(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/")


def parse_xero_date(value: Any) -> datetime | None:
    """Parse Xero's `/Date(1573755038314+0000)/` (milliseconds since the epoch, in UTC)."""
    if not isinstance(value, str):
        return None
    match = _MS_DATE.fullmatch(value.strip())
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def xero_throttle(response: httpx.Response) -> http.Throttle | None:
    """A 429: `X-Rate-Limit-Problem` names the limit; only the daily one is not waited out."""
    if response.status_code != 429:
        return None
    problem = (response.headers.get("X-Rate-Limit-Problem") or "minute").strip().lower()
    retry_after = http.retry_after_seconds(response.headers.get("Retry-After"), default=60.0)
    return http.Throttle(retry_after, problem, inline=problem != "day")


def validation_messages(body: Any) -> list[str]:
    """Every `ValidationErrors[].Message` in a Xero error body, in order, without repeats."""
    messages: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for error in node.get("ValidationErrors") or []:
                message = isinstance(error, dict) and error.get("Message")
                if message and message not in messages:
                    messages.append(message)
            for key, value in node.items():
                if key != "ValidationErrors":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    return messages


def xero_error(response: httpx.Response) -> base.ProviderError:
    """The error for a Xero answer that is neither a success nor handled by the session."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = None
    if isinstance(body, dict):
        detail = body.get("Detail") or body.get("Message") or body.get("Title")
    status = response.status_code
    if status in (401, 403):
        # AuthenticationUnsuccessful, or the organisation was disconnected from the app.
        return base.ConnectionExpired(
            f"Xero no longer grants access to this organisation ({detail or status}); reconnect"
        )
    messages = validation_messages(body)
    if not messages:
        messages = [str(detail) if detail else f"Xero refused the request (HTTP {status})"]
    return base.ValidationFailed(messages)


def _is_duplicate_name(messages: list[str]) -> bool:
    text = " ".join(messages).lower()
    return "already assigned to another contact" in text or "must be unique" in text


class XeroProvider(OAuthProvider):
    name = "xero"
    display_name = SERVICE
    capabilities = CAPABILITIES
    # Xero's token answers do not say how long a refresh token lives.
    rules = http.ApiRules(RATE_LIMIT, xero_throttle, lambda _answer: REFRESH_TOKEN_LIFETIME)

    def _oauth_settings(self, config: base.ProviderConfig) -> http.OAuthSettings:
        return self._login(
            config,
            config.xero,
            authorize_url=f"{config.xero_login_url}/identity/connect/authorize",
            token_url=f"{config.xero_identity_url}/connect/token",
            scope=config.xero_scopes,
        )

    # -- the grant ----------------------------------------------------------------------------

    def list_tenants(self, tokens: base.TokenSet) -> tuple[base.Tenant, ...]:
        """The organisations the grant reaches (`tenantType` ORGANISATION; not practices)."""
        connections = self._bearer_get(
            f"{self._config.xero_api_url}/connections", tokens, error=xero_error
        )
        if not isinstance(connections, list):
            raise base.ValidationFailed(["Xero sent an unexpected list of organisations"])
        return tuple(
            base.Tenant(id=item["tenantId"], name=item.get("tenantName") or item["tenantId"])
            for item in connections
            if isinstance(item, dict)
            and item.get("tenantType") == "ORGANISATION"
            and item.get("tenantId")
        )

    def revoke(self, tokens: base.TokenSet) -> None:
        """Revoke the refresh token: Xero removes every connection this grant made."""
        self.oauth.revoke(
            f"{self._config.xero_identity_url}/connect/revocation", tokens.refresh_token
        )

    def session(self, tenant_id: str, tokens: base.TokenStore) -> XeroSession:
        api = self._api_session(tenant_id, tokens, {"xero-tenant-id": tenant_id})
        return XeroSession(
            api, base_url=f"{self._config.xero_api_url}/api.xro/2.0", clock=self._clock
        )


class XeroSession:
    """Work against one Xero organisation."""

    def __init__(self, api: http.ApiSession, *, base_url: str, clock: Clock):
        self._api = api
        self._base_url = base_url
        self._clock = clock

    def __repr__(self) -> str:
        return "<XeroSession>"

    # -- lists --------------------------------------------------------------------------------

    list_groups = LIST_GROUPS

    def fetch_list(self, kind: base.ListKind, cursor: str | None) -> base.ListFetch:
        return self.fetch_lists((kind,), cursor)

    def fetch_lists(self, kinds: tuple[base.ListKind, ...], cursor: str | None) -> base.ListFetch:
        """One pass over the provider list behind `kinds` (one group of `LIST_GROUPS`, or a
        part of one): every record of those kinds, each page read once."""
        kinds = tuple(kinds)
        group = next((g for g in LIST_GROUPS if set(kinds) <= set(g)), None)
        if not kinds or group is None:
            raise ValueError(f"unknown list kind(s) {kinds!r}")
        since = http.parse_cursor(cursor)
        if group in (("tax_rate",), ("tracking",)):
            since = None  # no If-Modified-Since on these: always whole
        fetch = base.ListFetch(
            kind=kinds[0],
            full=since is None,
            cursor=http.make_cursor(self._clock.now()),
            pages=iter(()),
            kinds=kinds,
        )
        if group == CONTACTS:
            fetch.pages = self._contact_pages(kinds, since, fetch)
        elif group == ACCOUNTS:
            fetch.pages = self._account_pages(kinds, since)
        elif group == ("tax_rate",):
            fetch.pages = self._tax_rate_pages()
        else:
            fetch.pages = self._tracking_pages()
        return fetch

    def _contact_pages(
        self, kinds: tuple[base.ListKind, ...], since: datetime | None, fetch: base.ListFetch
    ) -> Iterator[list[base.Record]]:
        page, read = 1, 0
        while True:
            data = self._get(
                "Contacts",
                since=since,
                params={
                    "page": page,
                    "pageSize": PAGE_SIZE,
                    "includeArchived": "true",
                    "order": "UpdatedDateUTC ASC",
                },
            )
            contacts = [c for c in data.get("Contacts") or [] if isinstance(c, dict)]
            pagination = data.get("pagination") or {}
            if isinstance(pagination.get("itemCount"), int):
                fetch.expected = pagination["itemCount"]
            records = []
            for contact in contacts:
                kept = _trim(contact, CONTACT_FIELDS)
                for kind in kinds:
                    member = _is_member(kind, kept)
                    if member or since is not None:
                        records.append(_contact_record(kind, kept, member=member))
            read += len(contacts)
            fetch.read = read
            if records:
                yield records
            page_count = pagination.get("pageCount")
            if len(contacts) < PAGE_SIZE or (isinstance(page_count, int) and page >= page_count):
                return
            page += 1

    def _account_pages(
        self, kinds: tuple[base.ListKind, ...], since: datetime | None
    ) -> Iterator[list[base.Record]]:
        data = self._get("Accounts", since=since)
        records = [
            _account_record(kind, _trim(account, ACCOUNT_FIELDS))
            for account in data.get("Accounts") or []
            if isinstance(account, dict)
            for kind in kinds
            if kind == "account" or account.get("Type") == "BANK"
        ]
        if records:
            yield records

    def _tax_rate_pages(self) -> Iterator[list[base.Record]]:
        data = self._get("TaxRates")
        records = [
            base.Record(
                kind="tax_rate",
                remote_id=rate["TaxType"],
                name=rate.get("Name") or "",
                code=rate["TaxType"],
                active=rate.get("Status", "ACTIVE") == "ACTIVE",
                raw=rate,
            )
            for rate in data.get("TaxRates") or []
            if isinstance(rate, dict) and rate.get("TaxType")
        ]
        if records:
            yield records

    def _tracking_pages(self) -> Iterator[list[base.Record]]:
        records = []
        for category in self._tracking_categories(include_archived=True):
            category_only = {k: v for k, v in category.items() if k != "Options"}
            for option in category.get("Options") or []:
                records.append(
                    base.tracking_record(
                        category_id=category["TrackingCategoryID"],
                        category_name=category.get("Name") or "",
                        option_id=option["TrackingOptionID"],
                        option_name=option.get("Name") or "",
                        active=category.get("Status", "ACTIVE") == "ACTIVE"
                        and option.get("Status", "ACTIVE") == "ACTIVE",
                        category=category_only,
                        option=option,
                    )
                )
        if records:
            yield records

    def _tracking_categories(self, *, include_archived: bool) -> list[dict]:
        params = {"includeArchived": "true"} if include_archived else None
        data = self._get("TrackingCategories", params=params)
        return [
            c
            for c in data.get("TrackingCategories") or []
            if isinstance(c, dict) and c.get("TrackingCategoryID")
        ]

    # -- suppliers ----------------------------------------------------------------------------

    def create_supplier(self, name: str, *, idempotency_key: str) -> base.Record:
        name = base.supplier_name(name)
        response = self._api.request(
            "PUT",
            self._url("Contacts"),
            json={"Contacts": [{"Name": name}]},
            headers={"Idempotency-Key": _key(idempotency_key)},
        )
        if response.status_code == 400:
            error = xero_error(response)
            if isinstance(error, base.ValidationFailed) and _is_duplicate_name(error.messages):
                existing = self.find_contact(name)
                if existing is not None:
                    raise base.DuplicateName(existing)
            raise error
        contact = self._first(self._ok(response), "Contacts")
        return _contact_record("supplier", _trim(contact, CONTACT_FIELDS), member=True)

    def find_contact(self, name: str) -> base.Record | None:
        """The contact with this name (case-insensitive), preferring an active one."""
        data = self._get("Contacts", params={"searchTerm": name})
        wanted = name.casefold()
        matches = [
            c
            for c in data.get("Contacts") or []
            if isinstance(c, dict) and (c.get("Name") or "").strip().casefold() == wanted
        ]
        if not matches:
            return None
        matches.sort(key=lambda c: c.get("ContactStatus") != "ACTIVE")
        return _contact_record("supplier", _trim(matches[0], CONTACT_FIELDS), member=True)

    # -- bills --------------------------------------------------------------------------------

    def create_bill(self, bill: base.Bill, *, idempotency_key: str) -> base.PublishedBill:
        base.require_lines(bill)
        names = self._tracking_names(bill)
        invoice: dict[str, Any] = {
            "Type": "ACCPAY",
            "Status": bill.status,
            "Contact": {"ContactID": bill.supplier_id},
            "Date": bill.date.isoformat(),
            "LineAmountTypes": "Inclusive" if bill.amounts_include_tax else "Exclusive",
            "LineItems": [_line_item(line, names) for line in bill.lines],
        }
        if bill.due_date:
            invoice["DueDate"] = bill.due_date.isoformat()
        if bill.reference:
            invoice["InvoiceNumber"] = bill.reference  # a bill's number is the supplier's
        if bill.currency:
            invoice["CurrencyCode"] = bill.currency.upper()
        response = self._api.request(
            "PUT",
            self._url("Invoices"),
            json={"Invoices": [invoice]},
            headers={"Idempotency-Key": _key(idempotency_key)},
        )
        created = self._first(self._ok(response), "Invoices")
        if not created.get("InvoiceID"):
            raise base.ValidationFailed(["Xero did not say which bill it created"])
        return base.PublishedBill(
            remote_id=created["InvoiceID"],
            url=BILL_URL.format(created["InvoiceID"]),
            number=created.get("InvoiceNumber") or None,
        )

    def _tracking_names(self, bill: base.Bill) -> dict[tuple[str, str], tuple[str, str]]:
        """Category and option names for every tracking ref; Xero tracks lines by name."""
        refs = {
            (ref.category_id, ref.option_id): ref for line in bill.lines for ref in line.tracking
        }
        names = {
            key: (ref.category_name, ref.option_name)
            for key, ref in refs.items()
            if ref.category_name and ref.option_name
        }
        if len(names) == len(refs):
            return names
        for category in self._tracking_categories(include_archived=False):
            for option in category.get("Options") or []:
                key = (category["TrackingCategoryID"], option.get("TrackingOptionID"))
                if key in refs and key not in names:
                    names[key] = (category.get("Name") or "", option.get("Name") or "")
        missing = [ref for key, ref in refs.items() if key not in names]
        if missing:
            raise base.ValidationFailed(
                [
                    f"Xero has no tracking option {ref.option_name or ref.option_id}"
                    for ref in missing
                ]
            )
        return names

    # -- requests -----------------------------------------------------------------------------

    def _url(self, endpoint: str) -> str:
        return f"{self._base_url}/{endpoint}"

    def _get(
        self,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        since: datetime | None = None,
    ) -> dict[str, Any]:
        headers = None
        if since is not None:
            moment = (since - OVERLAP).astimezone(UTC)
            headers = {"If-Modified-Since": moment.strftime("%Y-%m-%dT%H:%M:%S")}
        response = self._api.request("GET", self._url(endpoint), params=params, headers=headers)
        if response.status_code == 304:
            return {}
        return self._ok(response)

    @staticmethod
    def _ok(response: httpx.Response) -> dict[str, Any]:
        if not response.is_success:
            raise xero_error(response)
        return http.read_object(response, SERVICE)

    @staticmethod
    def _first(data: Mapping[str, Any], key: str) -> dict[str, Any]:
        items = data.get(key)
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            raise base.ValidationFailed([f"Xero sent no {key} back"])
        item = items[0]
        if item.get("HasValidationErrors") or item.get("HasErrors"):
            raise base.ValidationFailed(validation_messages(item) or ["Xero refused the request"])
        return item


def _key(idempotency: str) -> str:
    return http.idempotency_key(idempotency, IDEMPOTENCY_KEY_MAX)


def _trim(item: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {key: item[key] for key in fields if key in item}


def _is_member(kind: base.ListKind, contact: Mapping[str, Any]) -> bool:
    if kind == "customer":
        return bool(contact.get("IsCustomer"))
    return bool(contact.get("IsSupplier")) or not contact.get("IsCustomer")


def _contact_record(
    kind: base.ListKind, contact: Mapping[str, Any], *, member: bool
) -> base.Record:
    return base.Record(
        kind=kind,
        remote_id=contact["ContactID"],
        name=(contact.get("Name") or "").strip(),
        code=contact.get("AccountNumber") or None,
        active=member and contact.get("ContactStatus", "ACTIVE") == "ACTIVE",
        updated_at=parse_xero_date(contact.get("UpdatedDateUTC")),
        raw=contact,
    )


def _account_record(kind: base.ListKind, account: Mapping[str, Any]) -> base.Record:
    return base.Record(
        kind=kind,
        remote_id=account["AccountID"],
        name=account.get("Name") or "",
        code=account.get("Code") or None,
        active=account.get("Status", "ACTIVE") == "ACTIVE",
        updated_at=parse_xero_date(account.get("UpdatedDateUTC")),
        raw=account,
    )


def _line_item(line: base.BillLine, names: Mapping[tuple[str, str], tuple[str, str]]) -> dict:
    item: dict[str, Any] = {"Quantity": 1, "UnitAmount": float(line.amount)}
    if line.description:
        item["Description"] = line.description
    if line.account_id:
        # By id: an account renamed or renumbered at Xero since the item came in still works.
        item["AccountID"] = line.account_id
    elif line.account_code:
        item["AccountCode"] = line.account_code
    if line.tax_code:
        item["TaxType"] = line.tax_code
    if line.tracking:
        item["Tracking"] = [_tracking(ref, names) for ref in line.tracking]
    return item


def _tracking(ref: base.TrackingRef, names: Mapping[tuple[str, str], tuple[str, str]]) -> dict:
    category, option = names[(ref.category_id, ref.option_id)]
    return {"Name": category, "Option": option}
