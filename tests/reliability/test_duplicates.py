"""Slack's redeliveries (X-Slack-Retry-Num: the same event again) and double clicks: every
side effect happens once."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from handlers import ids
from tests.conftest import ADMIN, STAFF
from tests.reliability.conftest import on_both_backends
from tests.reliability.stack import blocks_of, element, wait_until

# Exactly-once under redelivery and concurrency is what a second backend could break.
pytestmark = [pytest.mark.e2e, on_both_backends]


def deliver(stack, event: dict, team: str, event_id: str, *, retry: int | None = None):
    body = json.dumps(
        {
            "token": "deprecated",
            "team_id": team,
            "api_app_id": "A0001",
            "type": "event_callback",
            "event": event,
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
        }
    )
    extra = {}
    if retry is not None:
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    response = stack.post_signed(body, content_type="application/json", **extra)
    assert response.status_code == 200
    return response


def audit(stack, team: str, action: str) -> int:
    return stack.rows(
        "SELECT count(*) FROM audit_log WHERE team_id = ? AND action = ?", (team, action)
    )[0][0]


@pytest.mark.parametrize("kind", ["app_uninstalled", "tokens_revoked"])
def test_redelivered_events_act_once(stack, kind):
    """An uninstall or token revocation delivered again by Slack (X-Slack-Retry-Num 1 and 2)
    is recorded once, and the uninstall time is not moved."""
    team = f"T9{kind[:3].upper()}"
    stack.command("status", team=team)
    event = {"type": kind}
    if kind == "tokens_revoked":
        event["tokens"] = {"bot": ["UBOT"]}
    deliver(stack, event, team, f"Ev{kind}")
    wait_until(lambda: audit(stack, team, kind) == 1, f"the {kind} event to be handled")
    first = stack.rows("SELECT uninstalled_at FROM workspaces WHERE team_id = ?", (team,))
    for retry in (1, 2):
        deliver(stack, event, team, f"Ev{kind}", retry=retry)
    again = f"event Ev{kind} was delivered again; it was already handled"
    wait_until(lambda: stack.log().count(again) == 2, "both redeliveries to be handled")
    assert audit(stack, team, kind) == 1
    assert stack.rows("SELECT uninstalled_at FROM workspaces WHERE team_id = ?", (team,)) == first


def test_redelivered_home_opened_publishes_the_same_view(stack):
    """App Home opened, delivered twice, publishes the same view (nothing else happens; the
    outbox may fold the second publish into the first while it waits)."""
    before = len(stack.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": STAFF, "tab": "home", "channel": "D1"}
    deliver(stack, event, "T0001", "EvHome1")
    deliver(stack, event, "T0001", "EvHome1", retry=1)
    stack.slack.wait_for(lambda f: len(f.calls_to("views.publish")) > before)
    wait_until(
        lambda: (
            stack.rows(
                "SELECT count(*) FROM outbox WHERE method = 'views.publish' AND state = 'queued'"
            )
            == [(0,)]
        ),
        "both publishes delivered",
    )
    calls = stack.slack.calls_to("views.publish")[before:]
    assert 1 <= len(calls) <= 2
    assert all(call.args == calls[0].args for call in calls)


def at_once(*calls) -> None:
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def test_double_clicks_on_an_existing_supplier_publish_once(stack):
    """Two people choosing an existing supplier at the same moment: one rule, one bill, and
    the second is told who answered."""
    item = stack.post_item(supplier="Costa Cofee", reference="DBL-1", date="2026-10-01").json()
    use = element(blocks_of(stack.prompt(item["id"])), ids.USE_SUPPLIER)
    keys: list[str] = []

    def choose(user: str) -> None:
        keys.append(stack.click(ids.USE_SUPPLIER, use["value"], user=user)[1])

    at_once(*[lambda user=user: choose(user) for user in (ADMIN, STAFF)])
    stack.wait_item(item["id"], "published")
    # The second click's answer may come after the bill is published: wait for it.
    stack.slack.wait_for(
        lambda fake: [
            r
            for r in fake.responses
            if r.method in keys and "Already resolved by" in r.args.get("text", "")
        ],
        timeout=10,
    )
    assert len([i for i in stack.xero.invoices if i.get("InvoiceNumber") == "DBL-1"]) == 1
    events = [e["status"] for e in stack.item(item["id"])["history"]]
    assert events.count("ready") == 1 and events.count("published") == 1


def test_double_clicks_on_retry_publish_anyway_and_discard_act_once(stack):
    """Retry, Publish anyway and Discard clicked twice at once each move the item once."""
    first = stack.post_item(supplier="Costa Coffee Ltd", reference="DUP-A", total="64.00")
    stack.wait_item(first.json()["id"], "published")
    held = stack.post_item(supplier="Costa Coffee Ltd", reference="DUP-B", total="64.00").json()
    assert held["status"] == "held"
    at_once(*[lambda: stack.click(ids.PUBLISH_ANYWAY, str(held["id"]))] * 2)
    stack.wait_item(held["id"], "published")
    history = [e["status"] for e in stack.item(held["id"])["history"]]
    assert history.count("published") == 1
    assert len([i for i in stack.xero.invoices if i.get("InvoiceNumber") == "DUP-B"]) == 1
    stack.xero.queue(
        "/api.xro/2.0/Invoices",
        httpx.Response(400, json={"Elements": [{"ValidationErrors": [{"Message": "No."}]}]}),
    )
    refused = stack.post_item(supplier="Costa Coffee Ltd", reference="DUP-C").json()
    stack.wait_item(refused["id"], "failed")
    at_once(*[lambda: stack.click(ids.RETRY_ITEM, str(refused["id"]))] * 2)
    stack.wait_item(refused["id"], "published")
    history = [e["status"] for e in stack.item(refused["id"])["history"]]
    assert history.count("ready") == 2 and history.count("published") == 1  # submit, one retry
    assert len([i for i in stack.xero.invoices if i.get("InvoiceNumber") == "DUP-C"]) == 1
    doomed = stack.post_item(supplier="Double Discard Co", submitted_by=STAFF).json()
    at_once(*[lambda: stack.click(ids.DISCARD_ITEM, str(doomed["id"]), user=STAFF)] * 2)
    stack.wait_item(doomed["id"], "discarded")
    history = [e["status"] for e in stack.item(doomed["id"])["history"]]
    assert history.count("discarded") == 1


def test_double_click_on_disconnect_disconnects_once(stack):
    """Disconnect confirmed twice at once: one revocation, one audit entry, one success."""
    team = "T0DISC"
    stack.connect("quickbooks", team=team)
    [(connection_id,)] = stack.rows(
        "SELECT id FROM connections WHERE team_id = ? AND status = 'active'", (team,)
    )
    revocations = len(stack.quickbooks.api_requests("/tokens/revoke"))
    keys: list[str] = []
    at_once(
        *[lambda: keys.append(stack.click(ids.DISCONNECT, str(connection_id), team=team)[1])] * 2
    )
    texts = [stack.reply(key)["text"] for key in keys]
    assert sum("no longer exists" in text for text in texts) == 1, texts
    assert audit(stack, team, "disconnected") == 1
    assert len(stack.quickbooks.api_requests("/tokens/revoke")) == revocations + 1
