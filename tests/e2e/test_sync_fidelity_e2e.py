"""Publishing and sync fidelity end to end, through `ledgerlink serve` and the provider fakes:
categories by code, name and id on Xero and QuickBooks, items that arrive before the first
sync, a failed first sync, and how many requests a sync makes per provider list."""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from handlers import ids
from tests.conftest import ADMIN
from tests.e2e.chat import Chat, api_token, connect, db_rows
from tests.e2e.test_items_e2e import get_item, item_status, post_item, wait_until
from tests.fakes.databases import both_backends
from tests.fakes.slack_requests import view_submission
from tests.providers.fake_quickbooks import fault

pytestmark = pytest.mark.e2e


def cafe_accounts() -> list[dict]:
    """An expense account with an accent in its name, and an archived one like it."""
    cafe = {
        "AccountID": str(uuid.uuid4()),
        "Code": "429",
        "Name": "Café Supplies",
        "Type": "EXPENSE",
        "Class": "EXPENSE",
        "Status": "ACTIVE",
    }
    old = {**cafe, "AccountID": str(uuid.uuid4()), "Code": "428", "Status": "ARCHIVED"}
    return [cafe, {**old, "Name": "Café Supplies (old)"}]


def synced(serve_env, result: str = "ok") -> int:
    runs = db_rows(serve_env, "SELECT result FROM sync_runs")
    return sum(1 for (value,) in runs if value == result)


def first_sync_done(serve_env) -> None:
    wait_until(
        lambda: (
            synced(serve_env)
            and not db_rows(serve_env, "SELECT count(*) FROM leases WHERE name LIKE 'sync:%'")[0][0]
        ),
        "the first sync",
    )


@pytest.fixture
def xero_workspace(serve, provider_env, fake_slack, xero, serve_env):
    xero.cafe, archived = cafe_accounts()
    xero.accounts += [xero.cafe, archived]
    xero.add_contacts(1, Name="Costa Coffee Ltd")
    chat = Chat(serve(**provider_env), fake_slack)
    connect(chat)
    first_sync_done(serve_env)
    return chat, api_token(serve_env, fake_slack.team_id)


@pytest.fixture
def qbo_server(serve, provider_env, fake_slack, quickbooks):
    return Chat(serve(**provider_env), fake_slack)


def counts_by_list(requests: list[httpx.Request], key) -> dict[str, int]:
    counts: dict[str, int] = {}
    for request in requests:
        name = key(request)
        if name:
            counts[name] = counts.get(name, 0) + 1
    return counts


def xero_list(request: httpx.Request) -> str | None:
    if request.method != "GET" or "/api.xro/2.0/" not in request.url.path:
        return None
    return request.url.path.rsplit("/", 1)[-1]


def qbo_list(request: httpx.Request) -> str | None:
    path, params = request.url.path, request.url.params
    if request.method != "GET":
        return None
    if path.endswith("/query"):
        return "query " + params["query"].split()[3]  # SELECT * FROM <Entity> ...
    if path.endswith("/cdc"):
        return "cdc " + params["entities"]
    return None


def refresh_and_wait(chat, fake_slack) -> dict:
    chat.command("refresh")
    key = f"c{chat.n}"
    return fake_slack.wait_for(
        lambda fake: [
            r.args
            for r in fake.responses
            if r.method == key and ":arrows_counterclockwise:" not in r.args["text"]
        ],
        timeout=20,
    )[0]


def admin_posts(fake_slack, words: str) -> list[dict]:
    return [c.args for c in fake_slack.calls_to("chat.postMessage") if words in c.args["text"]]


# -- categories --------------------------------------------------------------------------------


def published(chat, token, supplier: str, category: str, reference: str, total: str) -> dict:
    """Post an item through the API and wait until it has published (asserting that it did)."""
    response = post_item(
        chat, token, supplier=supplier, category=category, reference=reference, total=total
    )
    assert response.status_code == 201, response.text
    done = item_status(chat, token, response.json()["id"], "published", "failed")
    assert done["status"] == "published", done
    return done


def test_xero_category_by_name_code_and_id_publishes_to_that_account(xero_workspace, xero):
    """A category typed as the account's name (any case, accents or punctuation), its code or
    its AccountID publishes a bill line on that account, by AccountID."""
    chat, token = xero_workspace
    for n, category in enumerate(("cafe-supplies", "429", xero.cafe["AccountID"])):
        published(chat, token, "Costa Coffee Ltd", category, f"CAT-{n}", f"{10 + n}.00")
        [bill] = [i for i in xero.invoices if i.get("InvoiceNumber") == f"CAT-{n}"]
        assert bill["LineItems"][0]["AccountID"] == xero.cafe["AccountID"], category


def test_a_category_renamed_after_submission_still_publishes(xero_workspace, xero):
    """The category is fixed to the account's id when the item is accepted, so renaming the
    account at Xero before publishing changes nothing; the typed text stays on the item."""
    chat, token = xero_workspace
    gate = threading.Event()
    handle = xero.handle

    def slow_bills(request):
        if request.method == "PUT" and request.url.path.endswith("/Invoices"):
            gate.wait(10)
        return handle(request)

    xero.handle = slow_bills
    response = post_item(
        chat, token, supplier="Costa Coffee Ltd", category="Café Supplies", reference="REN-1"
    )
    assert response.status_code == 201
    xero.cafe["Name"] = "Coffee Shop Supplies"  # renamed at Xero meanwhile
    gate.set()
    done = item_status(chat, token, response.json()["id"], "published", "failed")
    assert done["status"] == "published", done
    notes = [event["detail"] for event in done["history"]]
    assert "category “Café Supplies” is the account Café Supplies (429)" in notes
    [bill] = [i for i in xero.invoices if i.get("InvoiceNumber") == "REN-1"]
    assert bill["LineItems"][0]["AccountID"] == xero.cafe["AccountID"]


def test_an_unknown_category_is_a_400_naming_the_closest_accounts(
    xero_workspace, serve_env, fake_slack
):
    """A category no account matches is refused on the field, with the nearest names, and
    nothing is stored; an archived account is refused by name."""
    chat, token = xero_workspace
    response = post_item(chat, token, supplier="Costa Coffee Ltd", category="Cafe Suplies")
    assert response.status_code == 400
    body = response.json()
    assert "No account “Cafe Suplies”" in body["errors"]["category"]
    assert body["suggestions"]["category"][0] == "Café Supplies (429)"
    assert "Café Supplies (429)" in body["errors"]["category"]
    archived = post_item(chat, token, supplier="Costa Coffee Ltd", category="428").json()
    assert "is archived" in archived["errors"]["category"]
    revenue = post_item(chat, token, supplier="Costa Coffee Ltd", category="Sales").json()
    assert "not an expense account" in revenue["errors"]["category"]
    assert db_rows(serve_env, "SELECT count(*) FROM items")[0][0] == 0


def test_quickbooks_category_by_name_number_and_id(qbo_server, quickbooks, serve_env, fake_slack):
    """QuickBooks accounts are known by name (most have no number): a name, an account number
    and an Id each publish to that account; a US company's bill has no GlobalTaxCalculation."""
    chat = qbo_server
    connect(chat, "quickbooks")
    first_sync_done(serve_env)
    token = api_token(serve_env, fake_slack.team_id)
    wanted = {"meals & ENTERTAINMENT": "13", "6000": "7", "13": "13"}
    for n, (category, account) in enumerate(wanted.items()):
        published(chat, token, "Bob's Burger Joint", category, f"Q-{n}", f"{10 + n}.00")
        [bill] = [b for b in quickbooks.bills if b.get("DocNumber") == f"Q-{n}"]
        line = bill["Line"][0]["AccountBasedExpenseLineDetail"]
        assert line["AccountRef"] == {"value": account}, category
        assert "GlobalTaxCalculation" not in bill


def test_a_long_reference_is_shortened_visibly_for_quickbooks(
    qbo_server, quickbooks, serve_env, fake_slack
):
    """A supplier's reference over QuickBooks' 21 characters is cut visibly in DocNumber, kept
    whole in the memo, and the item's message says so."""
    chat = qbo_server
    connect(chat, "quickbooks")
    first_sync_done(serve_env)
    token = api_token(serve_env, fake_slack.team_id)
    reference = "INV-2026-000123-NORTH-WAREHOUSE"
    response = post_item(chat, token, supplier="Bob's Burger Joint", reference=reference)
    done = item_status(chat, token, response.json()["id"], "published", "failed")
    assert done["status"] == "published", done
    [bill] = quickbooks.bills
    assert bill["DocNumber"] == reference[:18] + "..." and len(bill["DocNumber"]) == 21
    assert bill["PrivateNote"] == f"Supplier's reference: {reference}"
    told = fake_slack.wait_for(
        lambda f: [c for c in f.calls_to("chat.update") if "bill numbers hold 21" in c.args["text"]]
    )
    assert f"shortened to {bill['DocNumber']}" in told[-1].args["text"]


# -- the first sync ----------------------------------------------------------------------------


def test_an_item_before_the_first_sync_waits_then_goes_to_the_existing_vendor(
    qbo_server, quickbooks, serve_env, fake_slack
):
    """Sent while the first sync is still reading vendors, an item for an existing vendor
    waits ("Waiting for the first sync of *Org*…") and, once the sync commits, is published
    to that vendor: no "not a supplier" prompt, one bill."""
    chat = qbo_server
    gate, reading = threading.Event(), threading.Event()
    handle = quickbooks.handle

    def slow_vendors(request):
        if request.url.path.endswith("/query") and "FROM Vendor" in request.url.params["query"]:
            reading.set()
            gate.wait(20)
        return handle(request)

    quickbooks.handle = slow_vendors
    connect(chat, "quickbooks")
    assert reading.wait(10)
    token = api_token(serve_env, fake_slack.team_id)
    response = post_item(chat, token, supplier="Bob's Burger Joint", reference="EARLY-1")
    assert response.status_code == 201
    item = response.json()
    assert item["status"] == "held"
    waiting = fake_slack.wait_for(
        lambda f: [
            c
            for c in f.calls_to("chat.postMessage")
            if "Waiting for the first sync" in c.args["text"]
        ]
    )
    assert f"Waiting for the first sync of *{quickbooks.company_name}*" in waiting[0].args["text"]
    assert get_item(chat, token, item["id"])["status"] == "held"
    gate.set()
    done = item_status(chat, token, item["id"], "published", "failed", "needs_supplier")
    assert done["status"] == "published", done
    assert done["supplier_id"] == "56"
    assert [b["VendorRef"] for b in quickbooks.bills] == [{"value": "56"}]
    assert not admin_posts(fake_slack, "is not a supplier")


def test_a_failed_first_sync_tells_the_admins_once_and_keeps_the_item(
    qbo_server, quickbooks, serve_env, fake_slack
):
    """The first sync fails: the admins are told once, an item sent meanwhile waits, and the
    next successful sync publishes it."""
    chat = qbo_server
    quickbooks.queue("/query", fault(400, "4000", "Error parsing query", "QueryParserError"))
    connect(chat, "quickbooks")
    wait_until(lambda: synced(serve_env, "failed"), "the failed first sync")
    token = api_token(serve_env, fake_slack.team_id)
    item = post_item(chat, token, supplier="Bob's Burger Joint", reference="AFTER-FAIL").json()
    assert item["status"] == "held"
    told = fake_slack.wait_for(lambda f: admin_posts(f, "for the first time"))
    assert "QueryParserError" in told[0]["text"]
    assert "Items sent meanwhile are kept" in told[0]["text"]

    outcome = refresh_and_wait(chat, fake_slack)
    assert outcome["text"].startswith(":white_check_mark:"), outcome
    done = item_status(chat, token, item["id"], "published", "failed")
    assert done["status"] == "published", done
    channel_and_dm = 2
    assert len(admin_posts(fake_slack, "for the first time")) == channel_and_dm


# -- requests per list ----------------------------------------------------------------------


@both_backends
def test_xero_reads_each_list_once_per_sync(xero_workspace, xero, fake_slack):
    """A first sync and a no-change refresh each make exactly one request per Xero list:
    /Contacts once for suppliers and customers, /Accounts once for the chart and payment
    accounts."""
    chat, _ = xero_workspace
    once = {"Contacts": 1, "Accounts": 1, "TaxRates": 1, "TrackingCategories": 1}
    assert counts_by_list(xero.calls, xero_list) == once
    before = len(xero.calls)
    outcome = refresh_and_wait(chat, fake_slack)
    assert "nothing changed" in outcome["text"], outcome
    assert counts_by_list(xero.calls[before:], xero_list) == once
    refreshed = [r for r in xero.calls[before:] if xero_list(r) in ("Contacts", "Accounts")]
    assert all("If-Modified-Since" in r.headers for r in refreshed)


def test_quickbooks_reads_each_list_once_per_sync(qbo_server, quickbooks, serve_env, fake_slack):
    """A first sync queries each entity once; a no-change refresh asks CDC once per list (and
    reads the tax codes, which CDC does not cover, once)."""
    chat = qbo_server
    connect(chat, "quickbooks")
    first_sync_done(serve_env)
    entities = ("Account", "Vendor", "Customer", "TaxCode", "Class", "Department")
    first = counts_by_list(quickbooks.calls, qbo_list)
    assert first == {f"query {e}": 1 for e in (*entities, "PaymentMethod")}
    before = len(quickbooks.calls)
    outcome = refresh_and_wait(chat, fake_slack)
    assert "nothing changed" in outcome["text"], outcome
    assert counts_by_list(quickbooks.calls[before:], qbo_list) == {
        "cdc Account": 1,
        "cdc Vendor": 1,
        "cdc Customer": 1,
        "query TaxCode": 1,
        "cdc Class,Department": 1,
        "cdc PaymentMethod": 1,
    }


def test_the_slack_form_shows_an_unknown_category_on_its_field(xero_workspace, fake_slack):
    """Submitting the form with a category no account matches keeps the form open with the
    error (and the closest names) on the Category field; a name that matches is accepted."""
    chat, _ = xero_workspace

    def submit(category: str) -> httpx.Response:
        values = {
            ids.ITEM_SUPPLIER_BLOCK: {ids.ITEM_SUPPLIER: {"value": "Costa Coffee Ltd"}},
            ids.ITEM_DATE_BLOCK: {ids.ITEM_DATE: {"selected_date": "2026-11-20"}},
            ids.ITEM_TOTAL_BLOCK: {ids.ITEM_TOTAL: {"value": "9.50"}},
            ids.ITEM_CATEGORY_BLOCK: {ids.ITEM_CATEGORY: {"value": category}},
        }
        body = view_submission(fake_slack.team_id, ADMIN, ids.ITEM_VIEW, values, "C0001")
        return chat.server.post_signed(body)

    refused = submit("Cafe Suplies").json()
    assert refused["response_action"] == "errors"
    error = refused["errors"][ids.ITEM_CATEGORY_BLOCK]
    assert "No account “Cafe Suplies”" in error and "Café Supplies (429)" in error
    accepted = submit("café supplies")
    assert accepted.status_code == 200 and not accepted.content.strip()
