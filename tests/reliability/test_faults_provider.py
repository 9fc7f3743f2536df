"""Provider faults end to end: Xero and QuickBooks misbehave during sync, token refresh,
supplier creation and publishing, and ledgerlink retries, queues or reports without losing or
doubling anything.

The provider client retries 5xx answers, timeouts and resets 3 times with backoff (0.25-2 s
here) and waits out short throttles inline, so the injected Retry-After values are 1 s.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import STAFF
from tests.providers.fake_quickbooks import THROTTLE_XML
from tests.reliability.faults import status
from tests.reliability.stack import OTHER_TEAM, blocks_of, element

pytestmark = pytest.mark.e2e

CONTACTS, ACCOUNTS = "/api.xro/2.0/Contacts", "/api.xro/2.0/Accounts"
TAX_RATES, TRACKING = "/api.xro/2.0/TaxRates", "/api.xro/2.0/TrackingCategories"
INVOICES, TOKEN = "/api.xro/2.0/Invoices", "/connect/token"


def throttled() -> httpx.Response:
    """QuickBooks' XML ThrottleExceeded answer: HTTP 429, Retry-After 1."""
    return httpx.Response(
        429,
        text=THROTTLE_XML,
        headers={"Content-Type": "application/xml", "Retry-After": "1"},
    )


def refresh(stack, team: str | None = None) -> str:
    """`/integrations refresh`, and the text it is replaced with once the sync is over."""
    key = stack.command("refresh", team=team, wait=False)

    def outcome(fake):
        texts = [r.args.get("text", "") for r in fake.responses if r.method == key]
        done = [t for t in texts if "Refreshing" not in t]
        return done[-1] if done else None

    return stack.slack.wait_for(outcome, timeout=30)


def suppliers(stack, team: str = "T0001") -> set[str]:
    return {
        name
        for (name,) in stack.rows(
            "SELECT r.name FROM list_records r JOIN connections c ON c.id = r.connection_id "
            "WHERE c.team_id = ? AND r.kind = 'supplier' AND c.status = 'active'",
            (team,),
        )
    }


def bills_for(stack, reference: str) -> list[dict]:
    return [i for i in stack.xero.invoices if i.get("InvoiceNumber") == reference]


def later(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def test_sync_rides_out_resets_truncation_5xx_and_a_short_throttle(stack):
    """One refresh meets a reset, a truncated body, a 503 and a 429 (Retry-After 1) on four
    different lists; every request is retried and the sync succeeds with the new supplier."""
    stack.xero.add_contacts(1, Name="Transient Traders")
    stack.xero_net.inject(CONTACTS, "reset")
    stack.xero_net.inject(ACCOUNTS, "truncate")
    stack.xero.queue(TAX_RATES, status(503))
    stack.xero.queue(TRACKING, status(429, retry_after=1, problem="minute"))
    text = refresh(stack)
    assert text.startswith(":white_check_mark: Refreshed Xero data"), text
    assert "Transient Traders" in suppliers(stack)
    assert stack.xero_net.served["reset"] >= 1 and stack.xero_net.served["truncate"] >= 1


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("garbage", "unreadable answer"),
        ("5xx", "after 4 attempts"),
        ("day-limit", "daily request limit"),
    ],
)
def test_failed_sync_keeps_the_lists(stack, fault, words):
    """A non-JSON page, a 500 that outlasts the retries, or Xero's daily limit ends the
    refresh with the reason in plain words, and the lists from the last sync are kept."""
    before = suppliers(stack)
    stack.xero.add_contacts(1, Name=f"Never Merged {fault}")
    if fault == "garbage":
        stack.xero_net.inject(CONTACTS, "garbage")
    elif fault == "5xx":
        stack.xero.queue(CONTACTS, *[status(500)] * 4)
    else:
        stack.xero.queue(CONTACTS, status(429, retry_after=3600, problem="day"))
    text = refresh(stack)
    assert words in text, text
    assert suppliers(stack) == before
    [(result,)] = stack.rows("SELECT result FROM sync_runs ORDER BY id DESC LIMIT 1")
    assert result == ("deferred" if fault == "day-limit" else "failed")


def test_quickbooks_xml_throttle_during_sync_is_waited_out(stack):
    """QuickBooks' XML ThrottleExceeded body (HTTP 429, Retry-After 1) during a refresh is
    waited out and the refresh succeeds."""
    stack.quickbooks.add("Vendor", 1, DisplayName="Throttled Vendor")
    stack.quickbooks.queue(
        "/cdc",
        throttled(),
    )
    text = refresh(stack, OTHER_TEAM)
    assert text.startswith(":white_check_mark: Refreshed QuickBooks data"), text
    assert "Throttled Vendor" in suppliers(stack, OTHER_TEAM)


def test_token_refresh_survives_a_reset_and_a_503(stack):
    """With the access token expired, the refresh call meets a reset then a 503; it is
    retried, the new tokens are stored, and the bill is published once."""
    stack.xero.expire_access_tokens()
    stack.xero_net.inject(TOKEN, "reset")
    stack.xero.queue(TOKEN, status(503))
    item = stack.post_item(supplier="Costa Coffee Ltd", reference="TOK-1").json()
    assert stack.wait_item(item["id"], "published")["bill_id"]
    assert len(bills_for(stack, "TOK-1")) == 1


def test_unreadable_token_answer_queues_the_item_until_later(stack):
    """A maintenance page from the token endpoint queues the item ("will retry"); the retry
    job publishes it later, once."""
    stack.xero.expire_access_tokens()
    stack.xero.queue(TOKEN, httpx.Response(200, text="<html>maintenance</html>"))
    item = stack.post_item(supplier="Costa Coffee Ltd", reference="TOK-2").json()
    queued = stack.wait_item(item["id"], "queued")
    assert queued["next_attempt_at"] and "unreadable token answer" in queued["error"]
    stack.tick(later(5))
    assert stack.wait_item(item["id"], "published")["bill_id"]
    assert len(bills_for(stack, "TOK-2")) == 1


def create_via_prompt(stack, supplier: str, reference: str) -> int:
    item = stack.post_item(supplier=supplier, reference=reference).json()
    assert item["status"] == "needs_supplier", item
    create = element(blocks_of(stack.prompt(item["id"])), "item_create_supplier")
    response, _ = stack.click("item_create_supplier", create["value"], user=STAFF)
    assert response.status_code == 200
    return item["id"]


def test_lost_answer_to_supplier_creation_makes_one_contact(stack):
    """Xero creates the supplier but the answer is lost (connection reset); the retry with the
    same Idempotency-Key gets the first answer, so there is one contact and one bill."""
    stack.xero_net.inject(CONTACTS, "reset_after", method="PUT")
    stack.xero.queue(INVOICES, status(502))
    item_id = create_via_prompt(stack, "Lost Answer Labs", "SUP-1")
    assert stack.wait_item(item_id, "published")["bill_id"]
    assert [c["Name"] for c in stack.xero.contacts].count("Lost Answer Labs") == 1
    assert len(bills_for(stack, "SUP-1")) == 1


def test_day_limit_on_supplier_creation_queues_then_publishes(stack):
    """Xero's daily limit while creating the supplier queues the item until Xero's time; the
    retry job then creates it and publishes the bill, once."""
    stack.xero.queue(CONTACTS, status(429, retry_after=600, problem="day"))
    item_id = create_via_prompt(stack, "Daily Limit Dairy", "SUP-2")
    queued = stack.wait_item(item_id, "queued")
    assert "rate limit" in queued["error"] and queued["next_attempt_at"]
    stack.tick(later(11))
    assert stack.wait_item(item_id, "published")["bill_id"]
    assert [c["Name"] for c in stack.xero.contacts].count("Daily Limit Dairy") == 1
    assert len(bills_for(stack, "SUP-2")) == 1


@pytest.mark.parametrize("fault", ["reset_after", "truncate", "garbage"])
def test_lost_or_broken_answer_to_a_bill_makes_one_bill(stack, fault):
    """Xero records the bill but its answer is lost, cut short or unreadable; the retry (at
    once, or from the queue) reuses the idempotency key, so Xero has exactly one bill."""
    reference = f"BILL-{fault}"
    stack.xero_net.inject(INVOICES, fault, method="PUT")
    item = stack.post_item(supplier="Costa Coffee Ltd", reference=reference)
    item_id = item.json()["id"]
    done = stack.wait_item(item_id, "published", "queued")
    if done["status"] == "ready":  # an unreadable answer is not retried inline
        stack.tick(later(5))
        done = stack.wait_item(item_id, "published")
    assert done["bill_id"] == bills_for(stack, reference)[0]["InvoiceID"]
    assert len(bills_for(stack, reference)) == 1


def test_outage_longer_than_the_retries_queues_the_bill(stack):
    """Four 500s in a row outlast the inline retries: the item is queued with the reason, the
    message says "will retry", and the retry job publishes it later, once."""
    stack.xero.queue(INVOICES, *[status(500)] * 4)
    item = stack.post_item(supplier="Costa Coffee Ltd", reference="OUT-1").json()
    queued = stack.wait_item(item["id"], "queued")
    assert "after 4 attempts" in queued["error"] and queued["next_attempt_at"]
    assert stack.slack.wait_for(
        lambda f: [c for c in f.calls_to("chat.update") if "will retry" in c.args.get("text", "")]
    )
    stack.tick(later(5))
    assert stack.wait_item(item["id"], "published")["bill_id"]
    assert len(bills_for(stack, "OUT-1")) == 1


def test_short_throttle_while_publishing_is_waited_out(stack):
    """A 429 with Retry-After 1 on the bill is waited out inline and the bill published."""
    stack.xero.queue(INVOICES, status(429, retry_after=1, problem="minute"))
    item = stack.post_item(supplier="Costa Coffee Ltd", reference="THR-1").json()
    assert stack.wait_item(item["id"], "published")["bill_id"]
    assert len(bills_for(stack, "THR-1")) == 1


def test_quickbooks_throttle_and_outage_while_publishing(stack):
    """QuickBooks: an XML throttle on the bill is waited out; 503s past the retries queue the
    next bill, which the retry job publishes once."""
    stack.command("warn-new-supplier off", team=OTHER_TEAM)
    try:
        publish_through_quickbooks_faults(stack)
    finally:
        stack.command("warn-new-supplier on", team=OTHER_TEAM)


def publish_through_quickbooks_faults(stack):
    stack.quickbooks.queue(
        "/bill",
        throttled(),
    )
    first = stack.post_item(team=OTHER_TEAM, supplier="QB Throttle Co", reference="QB-1").json()
    assert stack.wait_item(first["id"], "published", team=OTHER_TEAM)["bill_id"]
    stack.quickbooks.queue("/bill", *[status(503)] * 4)
    second = stack.post_item(team=OTHER_TEAM, supplier="QB Outage Co", reference="QB-2").json()
    assert "after 4 attempts" in stack.wait_item(second["id"], "queued", team=OTHER_TEAM)["error"]
    stack.tick(later(5))
    assert stack.wait_item(second["id"], "published", team=OTHER_TEAM)["bill_id"]
    numbers = [b.get("DocNumber") for b in stack.quickbooks.bills]
    assert numbers.count("QB-1") == 1 and numbers.count("QB-2") == 1


def test_an_answer_no_parser_expected_is_logged_and_retried(stack):
    """A 200 from Xero that is JSON but not a contact (no ContactID) is not left stuck
    'publishing': the error is logged with its traceback, the item is queued, and the retry
    job publishes it once Xero answers properly."""
    stack.xero.queue(CONTACTS, httpx.Response(200, json={"Contacts": [{"Name": "Odd Answer"}]}))
    item_id = create_via_prompt(stack, "Odd Answer Outfitters", "ODD-1")
    queued = stack.wait_item(item_id, "queued")
    assert queued["next_attempt_at"] and "ledgerlink's side" in queued["error"]
    assert f"publishing item {item_id} failed" in stack.log()
    stack.tick(later(5))
    assert stack.wait_item(item_id, "published")["bill_id"]
    assert [c["Name"] for c in stack.xero.contacts].count("Odd Answer Outfitters") == 1
