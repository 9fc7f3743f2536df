"""FakeQuickBooks: an in-memory QuickBooks Online (OAuth endpoints and Accounting API v3).

The fixtures and answers here are written by hand from the shapes Intuit documents for the
QuickBooks Online Accounting API (entity objects with `Id`, `MetaData.LastUpdatedTime`, `Active`;
`QueryResponse` without the entity key when nothing matched; `CDCResponse` lists; `Fault.Error[]`
with `Message` / `Detail` / `code`, lower-case `fault.error[]` on 401s, and the XML
`IntuitResponse` body used for throttling). Intuit publishes no machine-readable spec to check
them against, unlike Xero.

`FakeQuickBooks.handle(request) -> httpx.Response` is the whole server, independent of how the
request arrives (tests use `httpx.MockTransport(fake.handle)`); it routes on the URL path.
It insists on `minorversion=75` on every API call (AssertionError otherwise).

State: `entities` (entity name -> objects), `deleted` (objects CDC reports as deleted),
`employees` (names that clash), `bills`, `calls`, `token_calls`, `issued_tokens`, and
`queue(path_suffix, response)` for canned answers such as throttles.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import threading
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx

from tests.providers.fake_common import AnswersOnce, IssuesTokens

CLIENT_ID = "qbo-client-id-91ab"
CLIENT_SECRET = "qbo-client-secret-d4e5f6"
REDIRECT_URI = "https://ledgerlink.test/oauth/quickbooks/callback"
REVOKE_URL = "https://developer.api.intuit.test/v2/oauth2/tokens/revoke"
REALM_ID = "9130357952291234"
COMPANY_NAME = "Sandbox Company_US_1"
MINOR_VERSION = "75"

THROTTLE_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="2025-03-03T01:00:00.000-08:00">
  <Fault type="SERVICE">
    <Error code="3001">
      <Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>
      <Detail>The request limit was reached.</Detail>
    </Error>
  </Fault>
</IntuitResponse>"""

_QUERY = re.compile(
    r"SELECT \* FROM (\w+)(?: WHERE (.*?))? STARTPOSITION (\d+) MAXRESULTS (\d+)$", re.I
)


def _meta(moment: datetime) -> dict:
    stamp = moment.astimezone(UTC).isoformat(timespec="seconds")
    return {"CreateTime": stamp, "LastUpdatedTime": stamp}


def sample_entities(now: datetime) -> dict[str, list[dict]]:
    """A small company, one or two objects of every list entity ledgerlink reads."""
    old = now - timedelta(days=90)
    usd = {"value": "USD", "name": "United States Dollar"}
    common = {"domain": "QBO", "sparse": False, "SyncToken": "0", "MetaData": _meta(old)}
    return {
        "Account": [
            {
                **common,
                "Id": "7",
                "Name": "Advertising",
                "FullyQualifiedName": "Advertising",
                "AcctNum": "6000",
                "SubAccount": False,
                "AccountType": "Expense",
                "AccountSubType": "AdvertisingPromotional",
                "Classification": "Expense",
                "Active": True,
                "CurrentBalance": 0,
                "CurrencyRef": usd,
            },
            {
                **common,
                "Id": "13",
                "Name": "Meals and Entertainment",
                "FullyQualifiedName": "Meals and Entertainment",
                "SubAccount": False,
                "AccountType": "Expense",
                "AccountSubType": "EntertainmentMeals",
                "Classification": "Expense",
                "Active": True,
                "CurrentBalance": 0,
                "CurrencyRef": usd,
            },
            {
                **common,
                "Id": "35",
                "Name": "Checking",
                "FullyQualifiedName": "Checking",
                "AcctNum": "1000",
                "AccountType": "Bank",
                "AccountSubType": "Checking",
                "Classification": "Asset",
                "Active": False,
                "CurrentBalance": 1201.0,
                "CurrencyRef": usd,
            },
        ],
        "Vendor": [
            {
                **common,
                "Id": "56",
                "DisplayName": "Bob's Burger Joint",
                "PrintOnCheckName": "Bob's Burger Joint",
                "Active": True,
                "Balance": 0,
                "Vendor1099": False,
                "CurrencyRef": usd,
            },
            {
                **common,
                "Id": "41",
                "DisplayName": "Hall Properties",
                "PrintOnCheckName": "Hall Properties",
                "Active": False,
                "Balance": 0,
                "Vendor1099": False,
                "CurrencyRef": usd,
            },
        ],
        "Customer": [
            {
                **common,
                "Id": "1",
                "DisplayName": "Amy's Bird Sanctuary",
                "FullyQualifiedName": "Amy's Bird Sanctuary",
                "Active": True,
                "Balance": 239.0,
                "Taxable": True,
                "Job": False,
                "CurrencyRef": usd,
            },
        ],
        "TaxCode": [
            {
                **common,
                "Id": "2",
                "Name": "California",
                "Description": "California sales tax",
                "Active": True,
                "Hidden": False,
                "Taxable": True,
                "TaxGroup": True,
                "SalesTaxRateList": {"TaxRateDetail": []},
                "PurchaseTaxRateList": {"TaxRateDetail": []},
            },
            {
                **common,
                "Id": "3",
                "Name": "Tucson",
                "Active": False,
                "Hidden": False,
                "Taxable": True,
                "TaxGroup": True,
            },
        ],
        "Class": [
            {
                **common,
                "Id": "5000000000000001",
                "Name": "Design",
                "FullyQualifiedName": "Design",
                "SubClass": False,
                "Active": True,
            },
        ],
        "Department": [
            {
                **common,
                "Id": "1",
                "Name": "Downtown",
                "FullyQualifiedName": "Downtown",
                "SubDepartment": False,
                "Active": True,
            },
        ],
        "PaymentMethod": [
            {**common, "Id": "1", "Name": "Cash", "Type": "NON_CREDIT_CARD", "Active": True},
            {**common, "Id": "3", "Name": "Visa", "Type": "CREDIT_CARD", "Active": True},
        ],
    }


def fault(
    status: int, code: str, message: str, detail: str, kind: str = "ValidationFault"
) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "Fault": {
                "Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}],
                "type": kind,
            },
            "time": "2025-03-03T01:00:00.000-08:00",
        },
    )


def throttled_xml(status: int = 429) -> httpx.Response:
    return httpx.Response(status, text=THROTTLE_XML, headers={"Content-Type": "application/xml"})


class FakeQuickBooks(IssuesTokens, AnswersOnce):
    client = (CLIENT_ID, CLIENT_SECRET)

    def __init__(self, *, now: datetime | None = None, realm_id: str = REALM_ID):
        self.now = now or datetime.now(UTC)
        self.realm_id = realm_id
        self.company_name = COMPANY_NAME
        self.country = "US"  # CompanyInfo.Country: US companies take no GlobalTaxCalculation
        self.revoke_status = 200  # Intuit answers 400 when a revocation fails
        self.entities = sample_entities(self.now)
        self.deleted: dict[str, list[dict]] = defaultdict(list)
        self.employees = ["Emily Platt"]
        self.bills: list[dict] = []
        self.calls: list[httpx.Request] = []
        self._start_tokens()
        self.codes: set[str] = set()
        self._queued: dict[str, deque[httpx.Response]] = defaultdict(deque)
        self._replies: dict[str, tuple[int, bytes]] = {}
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()

    # -- setting up ---------------------------------------------------------------------------

    def queue(self, suffix: str, *responses: httpx.Response) -> None:
        """Answer the next requests whose path ends with `suffix` (e.g. "/query")."""
        self._queued[suffix].extend(responses)

    def issue_code(self) -> str:
        code = f"qbo-code-{secrets.token_hex(6)}"
        self.codes.add(code)
        return code

    def add(self, entity: str, count: int, **fields) -> list[dict]:
        """`count` more objects like the first `entity` sample, with fresh ids and names."""
        template = self.entities[entity][0]
        name_key = "DisplayName" if entity in ("Vendor", "Customer") else "Name"
        added = []
        for _ in range(count):
            n = next(self._ids)
            added.append(
                {
                    **copy.deepcopy(template),
                    "Id": str(n),
                    name_key: f"{entity} {n}",
                    "MetaData": _meta(self.now),
                    **fields,
                }
            )
        self.entities[entity].extend(added)
        return added

    def api_requests(self, suffix: str) -> list[httpx.Request]:
        return [r for r in self.calls if r.url.path.endswith(suffix)]

    # -- the server ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        with self._lock:
            self.calls.append(request)
            for suffix, queued in self._queued.items():
                if queued and path.endswith(suffix):
                    return queued.popleft()
        if path == "/oauth2/v1/tokens/bearer":
            return self._token(request)
        if path == "/v2/oauth2/tokens/revoke":
            return self._revoke(request)
        prefix = f"/v3/company/{self.realm_id}/"
        if not path.startswith(prefix):
            return fault(400, "4000", "Invalid company", f"Unknown company in {path}")
        assert request.url.params.get("minorversion") == MINOR_VERSION, path
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return httpx.Response(
                401,
                json={
                    "warnings": None,
                    "intuitObject": None,
                    "fault": {
                        "error": [
                            {
                                "message": "message=AuthenticationFailed; errorCode=003200; "
                                "statusCode=401",
                                "detail": "Token expired: eyJlbmMiOi... (redacted)",
                                "code": "3200",
                                "element": None,
                            }
                        ],
                        "type": "AUTHENTICATION",
                    },
                    "time": "2025-03-03T01:00:00.000-08:00",
                },
            )
        endpoint = path[len(prefix) :]
        if endpoint == "query":
            return self._query(request.url.params["query"])
        if endpoint == "cdc":
            return self._cdc(request)
        if endpoint == f"companyinfo/{self.realm_id}":
            return httpx.Response(
                200,
                json={
                    "CompanyInfo": {
                        "Id": "1",
                        "CompanyName": self.company_name,
                        "LegalName": self.company_name,
                        "Country": self.country,
                        "domain": "QBO",
                        "MetaData": _meta(self.now),
                    },
                    "time": "2025-03-03T01:00:00.000-08:00",
                },
            )
        if request.method == "POST" and endpoint in ("vendor", "bill"):
            return self._once(request, self._vendor if endpoint == "vendor" else self._bill)
        return fault(
            400,
            "610",
            "Object Not Found",
            f"Something you're trying to use has been made inactive or is not found: {endpoint}",
        )

    # -- OAuth --------------------------------------------------------------------------------

    def _token(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.token_calls += 1
            if not self._client_ok(request):
                return httpx.Response(401, json={"error": "invalid_client"})
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            hard = request.headers.get("x-include-refresh-token-hard-expires-in") == "true"
            if form.get("grant_type") == "authorization_code":
                if form.get("code") not in self.codes or form.get("redirect_uri") != REDIRECT_URI:
                    return httpx.Response(400, json={"error": "invalid_grant"})
                self.codes.discard(form["code"])
                return httpx.Response(200, json=self._issue(hard_expiry=hard))
            if form.get("grant_type") == "refresh_token":
                if form.get("refresh_token") not in self.refresh_tokens:
                    return httpx.Response(
                        400, json={"error": "invalid_grant", "error_description": "Token invalid"}
                    )
                self.refresh_tokens.discard(form["refresh_token"])
                return httpx.Response(200, json=self._issue(hard_expiry=hard))
        return httpx.Response(400, json={"error": "unsupported_grant_type"})

    def _issue(self, *, hard_expiry: bool = False) -> dict:
        hard = {"x_refresh_token_hard_expires_in": 86400 * 30} if hard_expiry else {}
        return self._mint(
            "qbo",
            next(self._ids),
            token_type="bearer",
            expires_in=3600,
            x_refresh_token_expires_in=8726400,
            **hard,
        )

    def _revoke(self, request: httpx.Request) -> httpx.Response:
        if not self._client_ok(request):
            return httpx.Response(401, json={"error": "invalid_client"})
        if self.revoke_status != 200:
            return httpx.Response(self.revoke_status, json={"error": "invalid_request"})
        token = json.loads(request.content).get("token")
        self.refresh_tokens.discard(token)
        return httpx.Response(200)

    # -- lists --------------------------------------------------------------------------------

    def _query(self, statement: str) -> httpx.Response:
        match = _QUERY.match(statement.strip())
        if not match:
            return fault(400, "4000", "Error parsing query", f"QueryParserError: {statement}")
        entity, where = match.group(1), match.group(2) or ""
        start, size = int(match.group(3)), int(match.group(4))
        objects = self.entities.get(entity, [])
        conditions = [c.strip() for c in re.split(r"\s+AND\s+", where, flags=re.I) if c.strip()]
        if not any(re.fullmatch(r"Active IN \(true,\s*false\)", c, re.I) for c in conditions):
            objects = [o for o in objects if o.get("Active", True)]
        for condition in conditions:
            equals = re.fullmatch(r"(\w+) = '((?:[^'\\]|\\.)*)'", condition)
            if equals:
                field, value = equals.group(1), re.sub(r"\\(.)", r"\1", equals.group(2))
                objects = [o for o in objects if o.get(field) == value]
        page = objects[start - 1 : start - 1 + size]
        answer: dict = {"startPosition": start, "maxResults": len(page)}
        if page:  # QuickBooks leaves the entity key out when nothing matched
            answer[entity] = page
        return httpx.Response(
            200, json={"QueryResponse": answer, "time": "2025-03-03T01:00:00.000-08:00"}
        )

    def _cdc(self, request: httpx.Request) -> httpx.Response:
        since = datetime.fromisoformat(request.url.params["changedSince"])
        if since < self.now - timedelta(days=30):
            return fault(
                400, "4001", "Invalid changedSince", "changedSince must be within the last 30 days"
            )
        answers = []
        for entity in request.url.params["entities"].split(","):
            changed = [
                o
                for o in self.entities.get(entity, [])
                if datetime.fromisoformat(o["MetaData"]["LastUpdatedTime"]) >= since
            ]
            changed += self.deleted.get(entity, [])
            answer: dict = {"startPosition": 1, "maxResults": len(changed)}
            if changed:
                answer[entity] = changed
            answers.append(answer)
        return httpx.Response(
            200,
            json={
                "CDCResponse": [{"QueryResponse": answers}],
                "time": "2025-03-03T01:00:00.000-08:00",
            },
        )

    # -- creating -----------------------------------------------------------------------------

    def _vendor(self, request: httpx.Request) -> httpx.Response:
        name = json.loads(request.content).get("DisplayName", "")
        taken = [
            o["DisplayName"] for e in ("Vendor", "Customer") for o in self.entities[e]
        ] + self.employees
        if name in taken:
            return fault(
                400,
                "6240",
                "Duplicate Name Exists Error",
                "The name supplied already exists. : Another customer, vendor or "
                "employee is already using this name. Please use a different name.",
            )
        vendor = {
            "Id": str(next(self._ids)),
            "DisplayName": name,
            "PrintOnCheckName": name,
            "Active": True,
            "Balance": 0,
            "Vendor1099": False,
            "domain": "QBO",
            "sparse": False,
            "SyncToken": "0",
            "MetaData": _meta(self.now),
        }
        self.entities["Vendor"].append(vendor)
        return httpx.Response(200, json={"Vendor": vendor, "time": "2025-03-03T01:00:00Z"})

    def _bill(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        vendors = {o["Id"] for o in self.entities["Vendor"]}
        accounts = {o["Id"] for o in self.entities["Account"]}
        if body.get("VendorRef", {}).get("value") not in vendors:
            return fault(
                400,
                "2500",
                "Invalid Reference Id",
                "Invalid Reference Id : Vendor assigned to this transaction has been "
                "deleted. Before you can modify this transaction, you must restore the "
                "vendor.",
            )
        if len(body.get("DocNumber") or "") > 21:
            return fault(
                400,
                "2050",
                "String length is either shorter or longer than supported by specification",
                "The string length specified does not match the supported length. "
                "Min:0 Max:21 supported.",
            )
        if self.country == "US" and "GlobalTaxCalculation" in body:
            return fault(
                400,
                "6000",
                "A business validation error has occurred while processing your request",
                "GlobalTaxCalculation is not applicable to US companies.",
            )
        for line in body.get("Line", []):
            ref = line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"]
            if ref not in accounts:
                return fault(
                    400,
                    "2500",
                    "Invalid Reference Id",
                    f"Invalid Reference Id : Accounts element id {ref} not found",
                )
        bill = {
            **body,
            "Id": str(next(self._ids)),
            "SyncToken": "0",
            "domain": "QBO",
            "TotalAmt": sum(line["Amount"] for line in body["Line"]),
            "Balance": sum(line["Amount"] for line in body["Line"]),
            "MetaData": _meta(self.now),
        }
        self.bills.append(bill)
        return httpx.Response(200, json={"Bill": bill, "time": "2025-03-03T01:00:00Z"})

    def _once(self, request: httpx.Request, create) -> httpx.Response:
        """`requestid`: a repeated id gets the first answer again, nothing is created."""
        key = request.url.params.get("requestid")
        return self._answer_once(key, request, create, keep=lambda r: True)
