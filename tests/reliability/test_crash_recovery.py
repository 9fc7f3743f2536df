"""The process killed with SIGKILL mid-sync and mid-publish, and the database locked by
another writer: after a restart everything is consistent, resumes, and nothing is doubled."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.reliability.stack import Stack, wait_until

pytestmark = pytest.mark.e2e

INVOICES, ACCOUNTS = "/api.xro/2.0/Invoices", "/api.xro/2.0/Accounts"


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory):
    """A stack of its own: these tests kill and restart its server."""
    running = Stack(tmp_path_factory.mktemp("crash")).start()
    try:
        running.connect("xero")
        yield running
    finally:
        running.stop()


def assert_consistent(stack) -> None:
    """The database file is intact and every item's history ends in its status."""
    assert stack.rows("PRAGMA integrity_check") == [("ok",)]
    assert stack.rows("PRAGMA foreign_key_check") == []
    mismatched = stack.rows(
        "SELECT i.id, i.status, e.status FROM items i JOIN item_events e ON e.id = "
        "(SELECT max(id) FROM item_events WHERE item_id = i.id) WHERE e.status != i.status"
    )
    assert mismatched == []


def suppliers(stack) -> set[str]:
    return {name for (name,) in stack.rows("SELECT name FROM list_records WHERE kind='supplier'")}


def test_killed_mid_sync_then_the_sync_resumes(crash_stack):
    """SIGKILL while a refresh is between lists: the live lists are untouched, and after the
    restart (once the dead run's lease lapses) the scheduler runs the sync again by itself."""
    stack = crash_stack
    before = suppliers(stack)
    stack.xero.add_contacts(1, Name="After The Crash Supplies")
    gate = stack.xero_net.pause(ACCOUNTS)
    stack.command("refresh", wait=False)
    assert gate.hit.wait(15), "the sync never reached the accounts"
    stack.kill()
    gate.release.set()
    assert_consistent(stack)
    assert suppliers(stack) == before
    [(run_id, result)] = stack.rows("SELECT id, result FROM sync_runs ORDER BY id DESC LIMIT 1")
    assert result == "running"
    # The dead process's lease lapses 2 minutes after its last heartbeat; play that time.
    stack.write("UPDATE leases SET until = '2000-01-01T00:00:00.000000+00:00'")
    stack.start()
    wait_until(lambda: "After The Crash Supplies" in suppliers(stack), "the resumed sync", 20)
    assert stack.rows("SELECT result, error FROM sync_runs WHERE id = ?", (run_id,)) == [
        ("failed", "the sync was interrupted (ledgerlink stopped while it ran)")
    ]
    assert stack.rows("SELECT result FROM sync_runs ORDER BY id DESC LIMIT 1") == [("ok",)]
    assert_consistent(stack)


def test_killed_between_sending_the_bill_and_recording_it(crash_stack):
    """SIGKILL after Xero recorded the bill but before ledgerlink heard back: after a restart
    the item-retry job recovers the item left 'publishing' and publishes it with the stored
    idempotency key, so Xero has exactly one bill and the item knows its ID."""
    stack = crash_stack
    gate = stack.xero_net.pause(INVOICES, method="PUT")
    item = stack.post_item(supplier="Costa Coffee Ltd", reference="KILL-1").json()
    assert gate.hit.wait(15), "the bill never reached Xero"
    stack.kill()
    gate.release.set()
    bills = [i for i in stack.xero.invoices if i.get("InvoiceNumber") == "KILL-1"]
    assert len(bills) == 1
    assert_consistent(stack)
    stack.start()
    shown = stack.item(item["id"])
    assert shown["status"] == "publishing" and shown["bill_id"] is None
    stack.tick(datetime.now(UTC) + timedelta(minutes=1))  # too soon: it may still be running
    assert stack.item(item["id"])["status"] == "publishing"
    stack.tick(datetime.now(UTC) + timedelta(minutes=16))
    done = stack.wait_item(item["id"], "published")
    assert done["bill_id"] == bills[0]["InvoiceID"]
    assert len([i for i in stack.xero.invoices if i.get("InvoiceNumber") == "KILL-1"]) == 1
    assert [e["detail"] for e in done["history"]].count("recovered") == 1
    assert_consistent(stack)


def test_requests_wait_while_another_writer_holds_the_database(crash_stack):
    """Another connection holds a write transaction (BEGIN IMMEDIATE) for 1.5 s: API
    submissions, slash commands and the health check wait for it and then succeed."""
    stack = crash_stack
    token = stack.api_token()
    blocker = sqlite3.connect(stack.db_path, isolation_level=None, timeout=5)
    blocker.execute("BEGIN IMMEDIATE")
    results: list = []

    def submit(n: int) -> None:
        response = stack.http.post(
            f"{stack.url}/api/items",
            json={"supplier": f"Locked Out {n}", "date": "2026-11-21", "total": f"{n}.50"},
            headers={"Authorization": f"Bearer {token}"},
        )
        results.append(response.status_code)

    def command() -> None:
        results.append(200 if stack.command("status")["text"] else 0)

    def health() -> None:
        results.append(stack.http.get(f"{stack.url}/healthz").status_code)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    threads += [threading.Thread(target=command), threading.Thread(target=health)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    blocker.execute("COMMIT")
    blocker.close()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [200, 200] + [201] * 8
    assert time.monotonic() - started >= 1.5
    names = {name for (name,) in stack.rows("SELECT supplier_name FROM items")}
    assert {f"Locked Out {n}" for n in range(8)} <= names
    assert "database is locked" not in stack.log()
