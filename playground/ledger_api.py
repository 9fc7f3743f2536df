"""Sandbox Books' accounting API, under `{base}/api`, for bearer access tokens.

    GET  /api/connections                      the organisations the token's grant reaches
    GET  /api/orgs/{org}/{collection}          accounts, contacts, tax-rates,
                                               tracking-categories, payment-methods
    POST /api/orgs/{org}/contacts              {"Name": ...}: 201, or 409 DuplicateName
    POST /api/orgs/{org}/bills                 201, or 422 with every problem found

Lists are incremental: `?since=N` returns what changed after change number N (0: everything,
archived records included), oldest change first, `limit` at a time (at most 200). The answer's
`Snapshot` is the change number the listing is consistent with; the next page is
`?since=<NextSince>&until=<Snapshot>`, and `Snapshot` is the cursor for the next sync.

POSTs honour `Idempotency-Key`: the same key with the same body gets the first answer again,
with a different body 422. Each grant may make `RATE_LIMIT` calls a minute (then 429 with
Retry-After). Errors are JSON: `{"Error": code, "Message": words, ...}`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import flask

from bot.http import query
from playground.ledger_data import CURRENCIES, contact
from playground.ledger_store import LedgerStore
from playground.web import json_answer, json_body
from store.timeutil import iso

COLLECTIONS = {
    "accounts": "accounts",
    "contacts": "contacts",
    "tax-rates": "tax_rates",
    "tracking-categories": "tracking_categories",
    "payment-methods": "payment_methods",
}
MAX_LIMIT = 200
RATE_LIMIT = 300  # calls a minute per grant
BILL_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
CENT = Decimal("0.01")


def error(status: int, code: str, message: str, **extra) -> flask.Response:
    return json_answer({"Error": code, "Message": message, **extra}, status)


def same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class RateWindow:
    """A sliding one-minute window of calls per grant."""

    def __init__(self, limit: int, monotonic: Callable[[], float] = time.monotonic):
        self.limit = limit
        self._monotonic = monotonic
        self._calls: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def wait_needed(self, key: str) -> float:
        """0 if a call may go ahead now (and count it), else seconds until one may."""
        now = self._monotonic()
        with self._lock:
            calls = self._calls[key]
            while calls and now - calls[0] >= 60.0:
                calls.popleft()
            if len(calls) >= self.limit:
                return 60.0 - (now - calls[0])
            calls.append(now)
            return 0.0


class AccountingApi:
    def __init__(self, store: LedgerStore, clock, *, bill_url: Callable[[str, str], str]):
        self.store = store
        self.clock = clock
        self.bill_url = bill_url
        self.rate = RateWindow(RATE_LIMIT)

    def connections(self, grant) -> flask.Response:
        orgs = [self.store.org(org_id) for org_id in grant.orgs]
        return json_answer(
            [
                {"OrgID": org.id, "Name": org.name, "Currency": org.currency, "Type": "ORG"}
                for org in orgs
                if org is not None
            ]
        )

    def guard(self, grant, org_id: str, *, write: bool) -> flask.Response | None:
        """The error answer when this grant may not make this call now, else None."""
        wait = self.rate.wait_needed(grant.id)
        if wait:
            response = error(429, "RateLimited", f"{RATE_LIMIT} calls a minute at most")
            response.headers["Retry-After"] = str(max(1, round(wait)))
            return response
        if self.store.org(org_id) is None:
            return error(404, "NotFound", f"no organisation {org_id}")
        if org_id not in grant.orgs:
            return error(403, "Forbidden", "this connection has no access to that organisation")
        if write and "ledger.write" not in grant.scope.split():
            return error(403, "InsufficientScope", "the ledger.write scope is needed")
        return None

    # -- lists ----------------------------------------------------------------------------------

    def list(self, org_id: str, collection: str) -> flask.Response:
        if collection not in COLLECTIONS:
            return error(404, "NotFound", f"no collection {collection}")
        try:
            args = query()
            since = int(args.get("since") or 0)
            until = int(args["until"]) if args.get("until") else None
            limit = int(args.get("limit") or 100)
        except ValueError:
            return error(400, "InvalidRequest", "since, until and limit are whole numbers")
        if since < 0 or not 0 < limit <= MAX_LIMIT:
            return error(400, "InvalidRequest", f"since >= 0 and 1 <= limit <= {MAX_LIMIT}")
        page = self.store.changes(
            org_id, COLLECTIONS[collection], since=since, until=until, limit=limit
        )
        return json_answer(
            {
                "Items": page.items,
                "Snapshot": page.snapshot,
                "HasMore": page.has_more,
                "NextSince": page.last_seq if page.has_more else None,
            }
        )

    # -- writes ---------------------------------------------------------------------------------

    def once(self, org_id: str, create: Callable[[dict], flask.Response]) -> flask.Response:
        """Run `create(body)` at most once per Idempotency-Key."""
        try:
            body = json_body()
        except (ValueError, UnicodeDecodeError):
            return error(400, "InvalidRequest", "the body is not JSON")
        if not isinstance(body, dict):
            return error(400, "InvalidRequest", "the body must be a JSON object")
        key = flask.request.headers.get("idempotency-key", "").strip()
        if not key:
            return create(body)
        fingerprint = hashlib.sha256(
            f"{flask.request.path}\n{json.dumps(body, sort_keys=True)}".encode()
        ).hexdigest()
        with self.store.transaction():
            earlier = self.store.reply(org_id, key)
            if earlier is not None:
                if earlier[0] != fingerprint:
                    return error(
                        422, "IdempotencyKeyReused", "this Idempotency-Key came with another body"
                    )
                return json_answer(earlier[2], earlier[1])
            response = create(body)
            if response.status_code < 500:
                self.store.save_reply(
                    org_id, key, fingerprint, response.status_code, response.get_json()
                )
            return response

    def create_contact(self, org_id: str, body: dict) -> flask.Response:
        name = " ".join(str(body.get("Name") or "").split())
        if not name or len(name) > 255:
            return error(
                422,
                "ValidationFailed",
                "a contact needs a name (255 characters at most)",
                Messages=["A contact needs a name of at most 255 characters."],
            )
        with self.store.transaction():
            for existing in self.store.all(org_id, "contacts"):
                if existing["Status"] == "ACTIVE" and same_name(existing["Name"], name):
                    return error(
                        409,
                        "DuplicateName",
                        f"A contact named {existing['Name']!r} already exists.",
                        Existing=existing,
                    )
            row = contact(
                org_id,
                name,
                now=self.clock.now(),
                ContactID=str(uuid.uuid4()),
                IsSupplier=bool(body.get("IsSupplier", True)),
                IsCustomer=bool(body.get("IsCustomer", False)),
            )
            self.store.put(org_id, "contacts", row["ContactID"], row)
        return json_answer({"Contact": row}, 201)

    def create_bill(self, org_id: str, body: dict) -> flask.Response:
        problems, bill = BillCheck(self.store, org_id).check(body)
        if problems:
            return error(422, "ValidationFailed", "; ".join(problems), Messages=problems)
        bill_id = str(uuid.uuid4())
        bill.update(
            BillID=bill_id,
            Number=f"BILL-{self.store.next_bill_number(org_id):04d}",
            Url=self.bill_url(org_id, bill_id),
            CreatedAt=iso(self.clock.now()),
            UpdatedAt=iso(self.clock.now()),
        )
        self.store.put(org_id, "bills", bill_id, bill)
        return json_answer({"Bill": bill}, 201)


class BillCheck:
    """Validates a bill body against one organisation's ledger; collects every problem."""

    def __init__(self, store: LedgerStore, org_id: str):
        self.store = store
        self.org = store.org(org_id)
        self.accounts = {a["Code"]: a for a in store.all(org_id, "accounts")}
        self.taxes = {t["Code"]: t for t in store.all(org_id, "tax_rates")}
        self.tracking = {
            (c["TrackingCategoryID"], o["TrackingOptionID"]): (c, o)
            for c in store.all(org_id, "tracking_categories")
            for o in c["Options"]
        }

    def check(self, body: dict) -> tuple[list[str], dict]:
        problems: list[str] = []
        supplier = self.store.get(self.org.id, "contacts", str(body.get("ContactID") or ""))
        if supplier is None:
            problems.append("The contact could not be found.")
        elif supplier["Status"] != "ACTIVE":
            problems.append(f"The contact {supplier['Name']} is archived.")
        when = _date(body.get("Date"))
        due = _date(body.get("DueDate")) if body.get("DueDate") else None
        if when is None:
            problems.append("Date must be a date like 2026-11-26.")
        if body.get("DueDate") and due is None:
            problems.append("DueDate must be a date like 2026-12-26.")
        elif when and due and due < when:
            problems.append("The due date can't be before the bill date.")
        status = body.get("Status") or "DRAFT"
        if status not in BILL_STATUSES:
            problems.append(f"Status must be one of {', '.join(BILL_STATUSES)}.")
        currency = (body.get("Currency") or self.org.currency).upper()
        if currency not in CURRENCIES:
            problems.append(f"The currency {currency} is not enabled for {self.org.name}.")
        inclusive = body.get("LineAmountTypes", "Inclusive") != "Exclusive"
        lines = body.get("Lines")
        if not isinstance(lines, list) or not lines:
            problems.append("A bill needs at least one line.")
            lines = []
        checked, total, tax = [], Decimal(0), Decimal(0)
        for number, line in enumerate(lines, 1):
            clean, amount, line_tax = self._line(
                number, line if isinstance(line, dict) else {}, inclusive, problems
            )
            checked.append(clean)
            total += amount + (Decimal(0) if inclusive else line_tax)
            tax += line_tax
        bill = {
            "ContactID": supplier["ContactID"] if supplier else None,
            "ContactName": supplier["Name"] if supplier else None,
            "Date": when.isoformat() if when else None,
            "DueDate": due.isoformat() if due else None,
            "Reference": body.get("Reference"),
            "Currency": currency,
            "Status": status,
            "LineAmountTypes": "Inclusive" if inclusive else "Exclusive",
            "Lines": checked,
            "Total": str(total.quantize(CENT)),
            "TotalTax": str(tax.quantize(CENT, ROUND_HALF_UP)),
        }
        return problems, bill

    def _line(self, n: int, line: dict, inclusive: bool, problems: list[str]):
        try:
            amount = Decimal(str(line.get("Amount")))
        except InvalidOperation:
            amount = Decimal(-1)
        if not amount.is_finite() or amount <= 0:
            problems.append(f"Line {n}: the amount must be a positive number.")
            amount = Decimal(0)
        code = line.get("AccountCode")
        account = self.accounts.get(code)
        if not code:
            problems.append(f"Line {n}: an account code is required.")
        elif account is None:
            problems.append(f"Line {n}: account code {code!r} is not in the chart of accounts.")
        elif account["Status"] != "ACTIVE":
            problems.append(f"Line {n}: account {code} {account['Name']} is archived.")
        elif account["Type"] == "BANK":
            problems.append(f"Line {n}: bank account {code} can't be used on a bill line.")
        tax_code = line.get("TaxCode") or (account or {}).get("TaxCode") or "NONE"
        rate = self.taxes.get(tax_code)
        if rate is None:
            problems.append(f"Line {n}: tax rate {tax_code!r} doesn't exist.")
            rate = {"Rate": "0"}
        tracking = []
        for ref in line.get("Tracking") or []:
            key = (ref.get("TrackingCategoryID"), ref.get("TrackingOptionID"))
            if key not in self.tracking:
                problems.append(f"Line {n}: tracking option {key[1]} doesn't exist.")
                continue
            category, option = self.tracking[key]
            tracking.append({"Category": category["Name"], "Option": option["Name"]})
        percent = Decimal(rate["Rate"])
        line_tax = amount * percent / ((100 + percent) if inclusive else 100)
        clean = {
            "Description": str(line.get("Description") or ""),
            "Amount": str(amount.quantize(CENT)),
            "AccountCode": code,
            "TaxCode": tax_code,
            "Tracking": tracking,
        }
        return clean, amount, line_tax


def _date(value) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None
