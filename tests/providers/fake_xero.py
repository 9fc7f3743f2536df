"""FakeXero: an in-memory Xero (identity, /connections, Accounting API) for tests.

`FakeXero.handle(request) -> httpx.Response` is the whole server; it knows nothing about how
requests reach it, so tests mount it with `httpx.MockTransport(fake.handle)` and an end-to-end
fake server can call it from its own request handler. It routes on `request.url.path` only, so
any host works.

Its data starts from the `example` blocks of Xero's OpenAPI spec (see `xero_spec`), and every
body sent to the Accounting API is validated against the spec's schema before it is handled
(a body that does not match raises AssertionError, failing the test).

State a test can look at or change: `contacts`, `accounts`, `tax_rates`, `tracking_categories`,
`invoices`, `connections`, `calls` (every request, in order), `token_calls`, `issued_tokens`
(every token value handed out), and `queue(path, response)` for canned answers such as 429s.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx

from tests.providers import xero_spec
from tests.providers.fake_common import AnswersOnce, IssuesTokens

CLIENT_ID = "xero-client-id-3c9d"
CLIENT_SECRET = "xero-client-secret-77e1f0"
REDIRECT_URI = "https://ledgerlink.test/oauth/xero/callback"
API = "/api.xro/2.0"
BODY_SCHEMAS = {
    ("PUT", "Contacts"): "Contacts",
    ("POST", "Contacts"): "Contacts",
    ("PUT", "Invoices"): "Invoices",
    ("POST", "Invoices"): "Invoices",
}


def ms_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def _parse_ms_date(value: str | None) -> datetime | None:
    if not value or not value.startswith("/Date("):
        return None
    millis = value[len("/Date(") :].split(")")[0].split("+")[0]
    return datetime.fromtimestamp(int(millis) / 1000, UTC)


def _json(status: int, body, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class FakeXero(IssuesTokens, AnswersOnce):
    client = (CLIENT_ID, CLIENT_SECRET)

    def __init__(self, *, now: datetime | None = None, tenant_id: str | None = None):
        self.now = now or datetime.now(UTC)
        self.connections = xero_spec.example("/Connections", spec=xero_spec.IDENTITY)
        self.tenant_id = tenant_id or self.connections[0]["tenantId"]
        self.connections[0]["tenantId"] = self.tenant_id
        self.contacts: list[dict] = xero_spec.example("/Contacts")["Contacts"]
        self.accounts: list[dict] = (
            xero_spec.example("/Accounts")["Accounts"]
            + xero_spec.example("/Accounts", "put")["Accounts"]
        )
        self.tax_rates: list[dict] = xero_spec.example("/TaxRates")["TaxRates"]
        self.tracking_categories: list[dict] = xero_spec.example("/TrackingCategories")[
            "TrackingCategories"
        ]
        self.tracking_categories[0]["Options"] = xero_spec.example(
            "/TrackingCategories/{TrackingCategoryID}/Options", "put"
        )["Options"]
        self.invoices: list[dict] = []
        self.pagination_block = True  # Xero adds `pagination` when paging; can be turned off
        self.calls: list[httpx.Request] = []
        self.token_delay = 0.0  # seconds the token endpoint takes (for concurrency tests)
        self._start_tokens()
        self.codes: dict[str, str | None] = {}  # code -> PKCE challenge
        self._queued: dict[str, deque[httpx.Response]] = defaultdict(deque)
        self._replies: dict[str, tuple[int, bytes]] = {}  # Idempotency-Key -> first answer
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    # -- setting up ---------------------------------------------------------------------------

    def queue(self, path: str, *responses: httpx.Response) -> None:
        """Answer the next requests to `path` (e.g. "/api.xro/2.0/Contacts") with these."""
        self._queued[path].extend(responses)

    def issue_code(self, code_challenge: str | None = None) -> str:
        code = f"xero-code-{secrets.token_hex(6)}"
        self.codes[code] = code_challenge
        return code

    def add_contacts(self, count: int, **fields) -> list[dict]:
        """`count` more contacts shaped like the spec's first example contact."""
        template = xero_spec.example("/Contacts")["Contacts"][0]
        added = []
        for _ in range(count):
            n = next(self._numbers)
            contact = {
                **copy.deepcopy(template),
                "ContactID": str(uuid.uuid4()),
                "Name": f"Generated Supplier {n:05d}",
                "FirstName": "",
                "LastName": "",
                "IsSupplier": True,
                "IsCustomer": False,
                "UpdatedDateUTC": ms_date(self.now),
                **fields,
            }
            added.append(contact)
        self.contacts.extend(added)
        return added

    def api_requests(self, endpoint: str) -> list[httpx.Request]:
        return [r for r in self.calls if r.url.path == f"{API}/{endpoint}"]

    # -- the server ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        with self._lock:
            self.calls.append(request)
            queued = self._queued.get(path)
            if queued:
                return queued.popleft()
        if path == "/connect/token":
            return self._token(request)
        if path == "/connect/revocation":
            return self._revoke(request)
        if path == "/connections":
            return self._authorized(request, tenant=False) or _json(200, self.connections)
        if path.startswith(API + "/"):
            denied = self._authorized(request, tenant=True)
            if denied:
                return denied
            endpoint = path[len(API) + 1 :]
            schema = BODY_SCHEMAS.get((request.method, endpoint))
            if request.content:
                assert schema, f"no schema known for {request.method} {endpoint} bodies"
                xero_spec.validate(schema, json.loads(request.content))
            handler = getattr(self, f"_{request.method.lower()}_{endpoint.lower()}", None)
            if handler:
                return handler(request)
        return _json(404, {"Title": "Not Found", "Status": 404, "Detail": path})

    # -- identity -----------------------------------------------------------------------------

    def _token(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.token_calls += 1
        if self.token_delay:
            time.sleep(self.token_delay)
        if not self._client_ok(request):
            return _json(401, {"error": "invalid_client"})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                if form.get("code") not in self.codes or form.get("redirect_uri") != REDIRECT_URI:
                    return _json(400, {"error": "invalid_grant"})
                challenge = self.codes.pop(form["code"])
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                derived = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if challenge and derived != challenge:
                    return _json(400, {"error": "invalid_grant"})
                return _json(200, self._issue())
            if form.get("grant_type") == "refresh_token":
                xero_spec.validate("RefreshToken", form, spec=xero_spec.IDENTITY)
                if form.get("refresh_token") not in self.refresh_tokens:
                    return _json(400, {"error": "invalid_grant"})
                self.refresh_tokens.discard(form["refresh_token"])  # rotated on every use
                return _json(200, self._issue())
        return _json(400, {"error": "unsupported_grant_type"})

    def _issue(self) -> dict:
        return self._mint(
            "xero",
            next(self._numbers),
            expires_in=1800,
            token_type="Bearer",
            scope="offline_access accounting.contacts",
        )

    def _revoke(self, request: httpx.Request) -> httpx.Response:
        if not self._client_ok(request):
            return _json(401, {"error": "invalid_client"})
        token = parse_qs(request.content.decode()).get("token", [""])[0]
        self.refresh_tokens.discard(token)
        return httpx.Response(200)

    def _authorized(self, request: httpx.Request, *, tenant: bool) -> httpx.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return _json(
                401,
                {
                    "Type": None,
                    "Title": "Unauthorized",
                    "Status": 401,
                    "Detail": "TokenExpired: token expired at 03/03/2025 08:00:00",
                },
                headers={
                    "WWW-Authenticate": 'Bearer error="invalid_token", '
                    'error_description="TokenExpired: token expired"'
                },
            )
        known = {c["tenantId"] for c in self.connections}
        if tenant and request.headers.get("xero-tenant-id") not in known:
            return _json(
                403,
                {
                    "Type": None,
                    "Title": "Forbidden",
                    "Status": 403,
                    "Detail": "AuthenticationUnsuccessful",
                },
            )
        return None

    # -- accounting ---------------------------------------------------------------------------

    def _envelope(self, **lists) -> dict:
        return {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": "ledgerlink tests",
            "DateTimeUTC": ms_date(self.now),
            **lists,
        }

    @staticmethod
    def _since(request: httpx.Request) -> datetime | None:
        header = request.headers.get("If-Modified-Since")
        return datetime.fromisoformat(header).replace(tzinfo=UTC) if header else None

    def _modified(self, items: list[dict], request: httpx.Request) -> list[dict]:
        since = self._since(request)
        if since is None:
            return items
        return [i for i in items if (_parse_ms_date(i.get("UpdatedDateUTC")) or since) > since]

    def _get_contacts(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        contacts = self._modified(self.contacts, request)
        if params.get("includeArchived") != "true":
            contacts = [c for c in contacts if c.get("ContactStatus") != "ARCHIVED"]
        if "searchTerm" in params:
            term = params["searchTerm"].casefold()
            contacts = [c for c in contacts if term in c.get("Name", "").casefold()]
        if params.get("order") == "UpdatedDateUTC ASC":
            contacts = sorted(contacts, key=lambda c: _parse_ms_date(c["UpdatedDateUTC"]))
        if "page" not in params:
            return _json(200, self._envelope(Contacts=contacts))
        page, size = int(params["page"]), int(params.get("pageSize", 100))
        body = self._envelope(Contacts=contacts[(page - 1) * size : page * size])
        if self.pagination_block:
            body["pagination"] = {
                "page": page,
                "pageSize": size,
                "pageCount": max(1, -(-len(contacts) // size)),
                "itemCount": len(contacts),
            }
        return _json(200, body)

    def _put_contacts(self, request: httpx.Request) -> httpx.Response:
        return self._once(request, self._create_contacts)

    def _create_contacts(self, request: httpx.Request) -> httpx.Response:
        created = []
        for wanted in json.loads(request.content)["Contacts"]:
            name = wanted["Name"]
            if any(
                c["Name"].casefold() == name.casefold() and c["ContactStatus"] == "ACTIVE"
                for c in self.contacts
            ):
                error = xero_spec.example("/Contacts", "put", "400")
                element = error["Elements"][0]
                element["Name"] = name
                element["ValidationErrors"] = [
                    {
                        "Message": (
                            f"The contact name {name} is already assigned to another contact. "
                            "The contact name must be unique across all active contacts."
                        )
                    }
                ]
                return _json(400, error)
            contact = {
                **xero_spec.example("/Contacts", "put")["Contacts"][0],
                "ContactID": str(uuid.uuid4()),
                "Name": name,
                "UpdatedDateUTC": ms_date(self.now),
            }
            for key in ("EmailAddress", "CompanyNumber"):
                contact.pop(key, None)
            created.append(contact)
        self.contacts.extend(created)
        return _json(200, self._envelope(Contacts=created))

    def _get_accounts(self, request: httpx.Request) -> httpx.Response:
        return _json(200, self._envelope(Accounts=self._modified(self.accounts, request)))

    def _get_taxrates(self, request: httpx.Request) -> httpx.Response:
        return _json(200, self._envelope(TaxRates=self.tax_rates))

    def _get_trackingcategories(self, request: httpx.Request) -> httpx.Response:
        categories = self.tracking_categories
        if request.url.params.get("includeArchived") != "true":
            categories = [c for c in categories if c.get("Status") == "ACTIVE"]
        return _json(200, self._envelope(TrackingCategories=categories))

    def _put_invoices(self, request: httpx.Request) -> httpx.Response:
        return self._once(request, self._create_invoices)

    def _create_invoices(self, request: httpx.Request) -> httpx.Response:
        created = []
        for wanted in json.loads(request.content)["Invoices"]:
            problems = self._invoice_problems(wanted)
            if problems:
                element = {**wanted, "ValidationErrors": [{"Message": m} for m in problems]}
                return _json(
                    400,
                    {
                        "ErrorNumber": 10,
                        "Type": "ValidationException",
                        "Message": "A validation exception occurred",
                        "Elements": [element],
                    },
                )
            template = xero_spec.example("/Invoices", "put")["Invoices"][0]
            contact = next(
                c for c in self.contacts if c["ContactID"] == wanted["Contact"]["ContactID"]
            )
            contact["IsSupplier"] = contact["IsSupplier"] or wanted["Type"] == "ACCPAY"
            total = sum(line["UnitAmount"] * line["Quantity"] for line in wanted["LineItems"])
            invoice = {
                **template,
                **wanted,
                "InvoiceID": str(uuid.uuid4()),
                "Contact": contact,
                "Total": total,
                "AmountDue": total,
                "UpdatedDateUTC": ms_date(self.now),
            }
            created.append(invoice)
        self.invoices.extend(created)
        return _json(200, self._envelope(Invoices=created))

    def _invoice_problems(self, invoice: dict) -> list[str]:
        problems = []
        if not any(c["ContactID"] == invoice["Contact"]["ContactID"] for c in self.contacts):
            problems.append("The contact could not be found.")
        codes = {a.get("Code") for a in self.accounts}
        ids = {a.get("AccountID") for a in self.accounts}
        tracking = {
            (c["Name"], o["Name"]) for c in self.tracking_categories for o in c.get("Options", [])
        }
        for line in invoice["LineItems"]:
            if "AccountID" in line:
                if line["AccountID"] not in ids:
                    problems.append(f"Account ID '{line['AccountID']}' is not valid.")
            elif line.get("AccountCode") not in codes:
                problems.append(
                    f"Account code '{line.get('AccountCode')}' is not a valid code "
                    "for this document."
                )
            for ref in line.get("Tracking", []):
                if (ref["Name"], ref["Option"]) not in tracking:
                    problems.append(f"Tracking option {ref['Option']} is not valid.")
        return problems

    def _once(self, request: httpx.Request, create) -> httpx.Response:
        """Idempotency-Key: a repeated key gets the first answer again, nothing is created."""
        key = request.headers.get("Idempotency-Key")
        return self._answer_once(key, request, create, keep=lambda r: r.status_code == 200)
