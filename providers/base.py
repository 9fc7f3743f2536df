"""The accounting-provider protocol: the one interface the rest of ledgerlink uses.

A provider (Xero, QuickBooks Online, ...) is built once with its configuration, an injected
`httpx.Client` and a clock. It does two kinds of work:

* the OAuth 2.0 grant: `authorize_url`, `exchange_code`, `list_tenants`, `refresh`, `revoke`;
* work for one connected organisation, through `session(tenant_id, tokens)`: fetch lists
  incrementally, create a supplier, create a bill.

A `ProviderSession` gets its access token from a `TokenStore` and refreshes it in one place: when
the access token is about to lapse or the provider answers 401, it calls
`TokenStore.refresh_with`, which serialises refreshes of one connection across threads and
processes and persists the rotated refresh token before the new access token is used.

Everything returns ledgerlink's own types and raises ledgerlink's own errors (below): callers never
see an `httpx` exception or a provider's JSON. Error messages never contain token values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

ListKind = Literal["account", "supplier", "customer", "tax_rate", "tracking", "payment_method"]
LIST_KINDS: tuple[ListKind, ...] = (
    "account",
    "supplier",
    "customer",
    "tax_rate",
    "tracking",
    "payment_method",
)
# How the list kinds come from a provider by default: each from its own list. A session whose
# provider serves several kinds from one list (Xero: suppliers and customers are both
# /Contacts) says so with a `list_groups` attribute and a `fetch_lists` method (see
# `ProviderSession`), so a sync reads that list once.
ONE_LIST_PER_KIND: tuple[tuple[ListKind, ...], ...] = tuple((kind,) for kind in LIST_KINDS)


# ---------------------------------------------------------------------------------------------
# Errors


class ProviderError(Exception):
    """Base of every error a provider raises. `str(error)` is safe to show a user."""


class ConnectionExpired(ProviderError):
    """The grant is gone: refresh token rejected, revoked, or the tenant disconnected."""


class RateLimited(ProviderError):
    def __init__(self, retry_after: float, scope: str = "minute", message: str | None = None):
        self.retry_after = retry_after
        self.scope = scope
        super().__init__(message or f"rate limited ({scope}); retry in {retry_after:g} s")


class DuplicateName(ProviderError):
    def __init__(self, existing: Record, message: str | None = None):
        self.existing = existing
        super().__init__(message or f"a contact named {existing.name!r} already exists")


class ValidationFailed(ProviderError):
    """The provider refused the request; `messages` are its own words, fit for the user."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages) or ["the request was refused"]
        super().__init__("; ".join(self.messages))


class ProviderUnavailable(ProviderError):
    """5xx, timeouts, resets or unreadable answers, after the bounded retries."""


# ---------------------------------------------------------------------------------------------
# Types


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime | None = None
    scope: str | None = None
    # Incremented by the store on every saved refresh; lets a waiter see that someone else
    # refreshed while it waited for the lock.
    version: int = 0


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str


@dataclass(frozen=True)
class Grant:
    """What a completed authorization gives: tokens and the organisations they reach."""

    tokens: TokenSet
    tenants: tuple[Tenant, ...]


@dataclass(frozen=True)
class Record:
    """One entry of a synced list (an account, supplier, tax rate, ...)."""

    kind: ListKind
    remote_id: str
    name: str
    code: str | None = None
    active: bool = True
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class ListFetch:
    """The result of `fetch_list`: pages to stream into the store, and the cursor to keep.

    `cursor` is known before the pages are read (it marks when this fetch started), and is to
    be stored only once every page was stored. `full` says whether this is a complete list.
    A fetch of several kinds at once (`fetch_lists`) lists them in `kinds`; each record says
    its own kind. `expected`, when the provider says how long the list is, is set as the pages
    arrive (e.g. Xero's `pagination.itemCount`), and `read` counts what was read, for progress.
    """

    kind: ListKind
    full: bool
    cursor: str | None
    pages: Iterator[list[Record]]
    kinds: tuple[ListKind, ...] = ()
    expected: int | None = None
    read: int = 0  # items read from the provider so far (contacts, not records)


@dataclass(frozen=True)
class TrackingRef:
    category_id: str
    option_id: str
    category_name: str | None = None
    option_name: str | None = None


@dataclass(frozen=True)
class BillLine:
    description: str
    amount: Decimal
    account_code: str | None = None
    # The account's id at the provider (from the synced chart), when known: providers that
    # take an id use it, so an account renamed or renumbered since still gets the bill.
    account_id: str | None = None
    tax_code: str | None = None
    tracking: tuple[TrackingRef, ...] = ()


@dataclass(frozen=True)
class Bill:
    supplier_id: str
    date: date
    lines: tuple[BillLine, ...]
    due_date: date | None = None
    reference: str | None = None
    currency: str | None = None
    status: Literal["DRAFT", "SUBMITTED", "AUTHORISED"] = "DRAFT"
    # Whether line amounts include tax (a receipt's total usually does).
    amounts_include_tax: bool = True


@dataclass(frozen=True)
class PublishedBill:
    remote_id: str
    url: str | None = None
    number: str | None = None
    # What the provider's rules changed, in words for the item's message (e.g. a reference
    # shortened to fit QuickBooks' bill number).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    """What differs between providers that the services must know."""

    pkce: bool  # the login sends a PKCE code verifier
    bill_statuses: tuple[str, ...]  # the statuses a published bill may be given
    refresh_token_idle_days: int  # an unused refresh token dies after this many days


def supplier_name(name: str) -> str:
    """A new supplier's name as every provider sends it: whitespace collapsed, never empty."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(["a supplier needs a name"])
    return name


def require_lines(bill: Bill) -> None:
    """No provider accepts a bill without lines; say so before asking one."""
    if not bill.lines:
        raise ValidationFailed(["a bill needs at least one line"])


# ---------------------------------------------------------------------------------------------
# Protocols


class TokenStore(Protocol):
    """Where a connection's tokens live (encrypted, in ledgerlink's store)."""

    def current(self) -> TokenSet: ...

    def refresh_with(self, used: TokenSet, refresh: Callable[[TokenSet], TokenSet]) -> TokenSet:
        """Return fresh tokens, refreshing at most once across threads and processes.

        If the stored tokens changed since `used` was read (someone else refreshed), return
        them without calling `refresh`. Otherwise call `refresh(current)` while holding the
        connection's refresh lock and persist its result before returning it.
        """
        ...


class ProviderSession(Protocol):
    """Work against one connected organisation.

    Optional: `list_groups` (kinds read from one provider list, in the order to sync them) and
    `fetch_lists(kinds, cursor)`, one fetch whose pages hold records of every kind of a group.
    """

    def fetch_list(self, kind: ListKind, cursor: str | None) -> ListFetch: ...

    def create_supplier(self, name: str, *, idempotency_key: str) -> Record: ...

    def create_bill(self, bill: Bill, *, idempotency_key: str) -> PublishedBill: ...


class ClientCredentials(Protocol):
    """ledgerlink's client registration with one provider."""

    @property
    def client_id(self) -> str: ...

    @property
    def client_secret(self) -> str: ...


class ProviderConfig(Protocol):
    """The settings the providers read. They are passed in (the composition root hands over
    `bot.config.Config`, which has these fields), so providers/ never imports bot/."""

    @property
    def public_url(self) -> str:
        """ledgerlink's own base URL; OAuth callbacks are `{public_url}/oauth/<name>/callback`."""
        ...

    @property
    def xero(self) -> ClientCredentials | None: ...

    @property
    def xero_login_url(self) -> str: ...

    @property
    def xero_identity_url(self) -> str: ...

    @property
    def xero_api_url(self) -> str: ...

    @property
    def xero_scopes(self) -> str: ...

    @property
    def quickbooks(self) -> ClientCredentials | None: ...

    @property
    def qbo_environment(self) -> str: ...

    @property
    def qbo_api_url(self) -> str: ...

    @property
    def qbo_auth_url(self) -> str: ...

    @property
    def qbo_token_url(self) -> str: ...


class Provider(Protocol):
    name: str  # "xero" | "quickbooks"
    display_name: str  # "Xero" | "QuickBooks"
    capabilities: Capabilities

    def authorize_url(self, state: str, *, code_verifier: str | None) -> str: ...

    def exchange_code(
        self, code: str, *, code_verifier: str | None, callback_params: Mapping[str, str]
    ) -> Grant:
        """Trade the callback's code for tokens and list the organisations the grant reaches."""
        ...

    def list_tenants(self, tokens: TokenSet) -> tuple[Tenant, ...]: ...

    def refresh(self, tokens: TokenSet) -> TokenSet: ...

    def revoke(self, tokens: TokenSet) -> None: ...

    def session(self, tenant_id: str, tokens: TokenStore) -> ProviderSession: ...


# ---------------------------------------------------------------------------------------------
# Tracking records
#
# Providers model tracking differently (Xero: up to two categories with options; QuickBooks:
# classes per line and one department/location per transaction). ledgerlink flattens them the
# same way: one `tracking` Record per option, `remote_id` "<category id>/<option id>", `name`
# "<category>: <option>", and the ids and names under fixed keys of `raw` (the provider's own
# objects under "category" and "option").


def tracking_record(
    *,
    category_id: str,
    category_name: str,
    option_id: str,
    option_name: str,
    active: bool,
    updated_at: datetime | None = None,
    category: Mapping[str, Any] | None = None,
    option: Mapping[str, Any] | None = None,
) -> Record:
    return Record(
        kind="tracking",
        remote_id=f"{category_id}/{option_id}",
        name=f"{category_name}: {option_name}",
        active=active,
        updated_at=updated_at,
        raw={
            "category_id": category_id,
            "category_name": category_name,
            "option_id": option_id,
            "option_name": option_name,
            "category": dict(category or {}),
            "option": dict(option or {}),
        },
    )


def tracking_ref(record: Record) -> TrackingRef:
    """The bill-line reference for a `tracking` Record made by `tracking_record`."""
    if record.kind != "tracking":
        raise ValueError(f"not a tracking record: {record.kind}")
    category_id, _, option_id = record.remote_id.partition("/")
    return TrackingRef(
        category_id, option_id, record.raw.get("category_name"), record.raw.get("option_name")
    )
