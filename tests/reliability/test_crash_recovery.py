"""The process killed with SIGKILL mid-sync and mid-publish, and the database locked by
another writer: after a restart everything is consistent, resumes, and nothing is doubled."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from store.database import WRITE_LOCK_KEY
from tests.fakes.databases import BACKENDS
from tests.reliability.conftest import started_stack
from tests.reliability.stack import wait_until

pytestmark = pytest.mark.e2e

INVOICES, ACCOUNTS = "/api.xro/2.0/Invoices", "/api.xro/2.0/Accounts"


# These tests run on both backends (one more, on PostgreSQL only, leaves the killed process dead).
on_both_backends = pytest.mark.parametrize("crash_stack", BACKENDS, indirect=True, scope="module")


@pytest.fixture(scope="module")
def crash_stack(request, tmp_path_factory):
    """A stack of its own: these tests kill and restart its server."""
    backend = getattr(request, "param", "sqlite")
    with started_stack(backend, tmp_path_factory.mktemp(f"crash-{backend}")) as running:
        running.connect("xero")
        yield running


def assert_consistent(stack) -> None:
    """The database is intact and every item's history ends in its status."""
    if stack.database.backend == "sqlite":
        # PostgreSQL enforces foreign keys and survives a killed client by design.
        assert stack.rows("PRAGMA integrity_check") == [("ok",)]
        assert stack.rows("PRAGMA foreign_key_check") == []
    mismatched = stack.rows(
        "SELECT i.id, i.status, e.status FROM items i JOIN item_events e ON e.id = "
        "(SELECT max(id) FROM item_events WHERE item_id = i.id) WHERE e.status != i.status"
    )
    assert mismatched == []


def suppliers(stack) -> set[str]:
    return {name for (name,) in stack.rows("SELECT name FROM list_records WHERE kind='supplier'")}


def kill_mid_sync(stack, new_supplier: str) -> int:
    """Xero gets a new supplier; a refresh starts, and the server is SIGKILLed while the sync
    is between lists (its run still 'running'), then the dead run's lease lapses (2 minutes
    after its last heartbeat: that time is played). The dead run's id."""
    stack.xero.add_contacts(1, Name=new_supplier)
    gate = stack.xero_net.pause(ACCOUNTS)
    stack.command("refresh", wait=False)
    assert gate.hit.wait(15), "the sync never reached the accounts"
    stack.kill()
    gate.release.set()
    [(run_id, result)] = stack.rows("SELECT id, result FROM sync_runs ORDER BY id DESC LIMIT 1")
    assert result == "running"
    stack.write("UPDATE leases SET until = '2000-01-01T00:00:00.000000+00:00'")
    return run_id


@on_both_backends
def test_killed_mid_sync_then_the_sync_resumes(crash_stack):
    """SIGKILL while a refresh is between lists: the live lists are untouched, and after the
    restart (once the dead run's lease lapses) the scheduler runs the sync again by itself."""
    stack = crash_stack
    before = suppliers(stack)
    run_id = kill_mid_sync(stack, "After The Crash Supplies")
    assert_consistent(stack)
    assert suppliers(stack) == before
    stack.start()
    wait_until(lambda: "After The Crash Supplies" in suppliers(stack), "the resumed sync", 20)
    assert stack.rows("SELECT result, error FROM sync_runs WHERE id = ?", (run_id,)) == [
        ("failed", "the sync was interrupted (ledgerlink stopped while it ran)")
    ]
    assert stack.rows("SELECT result FROM sync_runs ORDER BY id DESC LIMIT 1") == [("ok",)]
    assert_consistent(stack)


@pytest.mark.parametrize("crash_stack", ["postgresql"], indirect=True, scope="module")
def test_killed_mid_sync_another_process_finishes_it_once(crash_stack):
    """Beyond one machine: SIGKILL one process mid-sync and leave it dead; once its lease
    lapses, another process on the same database (a `ledgerlink tick`) runs the sync, which
    merges once: the new supplier is stored once, the dead run is closed as interrupted, and
    exactly one run succeeds."""
    stack = crash_stack
    dead_run = kill_mid_sync(stack, "Finished Elsewhere Supplies")
    stack.tick(datetime.now(UTC))
    assert stack.rows(
        "SELECT count(*) FROM list_records WHERE kind = 'supplier' AND name = ?",
        ("Finished Elsewhere Supplies",),
    ) == [(1,)]
    assert stack.rows(
        "SELECT id, result FROM sync_runs WHERE id >= ? ORDER BY id", (dead_run,)
    ) == [
        (dead_run, "failed"),
        (dead_run + 1, "ok"),
    ]
    assert_consistent(stack)
    stack.start()  # (the module's stack runs on for the next test)


@on_both_backends
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


@on_both_backends
def test_requests_wait_while_another_writer_holds_the_database(crash_stack):
    """Another connection holds the write lock for 1.5 s (SQLite: a BEGIN IMMEDIATE
    transaction; PostgreSQL: a transaction holding ledgerlink's advisory write lock): API
    submissions and a slash command's reply, all sent meanwhile, wait for it and then
    succeed, while Slack still gets its acknowledgement and the health check (a read) its
    answer during the lock."""
    stack = crash_stack
    token = stack.api_token()
    if stack.database.backend == "sqlite":
        blocker = sqlite3.connect(stack.db_path, isolation_level=None, timeout=5)
        blocker.execute("BEGIN IMMEDIATE")
    else:
        blocker = psycopg.connect(stack.database.target, autocommit=True)
        blocker.execute("BEGIN")
        blocker.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
    held_from = time.monotonic()
    sent: list[str] = []
    answers: list[tuple[str, int, float]] = []  # (what, HTTP status, when)

    def trace(event: str, info: dict) -> None:
        if event == "http11.send_request_body.complete":
            sent.append(event)

    def submit(n: int) -> None:
        response = stack.http.post(
            f"{stack.url}/api/items",
            json={"supplier": f"Locked Out {n}", "date": "2026-11-21", "total": f"{n}.50"},
            headers={"Authorization": f"Bearer {token}"},
            extensions={"trace": trace},
        )
        answers.append(("api", response.status_code, time.monotonic()))

    def command() -> None:
        key = stack.command("status", wait=False)  # asserts the acknowledgement was a 200
        answers.append(("ack", 200, time.monotonic()))
        reply = stack.reply(key, timeout=30)
        answers.append(("reply", 200 if reply["text"] else 0, time.monotonic()))

    def health() -> None:
        answers.append(("health", stack.http.get(f"{stack.url}/healthz").status_code, 0.0))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    threads += [threading.Thread(target=command), threading.Thread(target=health)]
    for thread in threads:
        thread.start()
    wait_until(
        lambda: len(sent) == 8 and {"ack", "health"} <= {what for what, _, _ in answers},
        "the submissions to be sent, and the command and health check to be answered",
    )
    time.sleep(max(0.0, 1.5 - (time.monotonic() - held_from)))  # the other writer's 1.5 s
    answered_while_locked = sorted(what for what, _, _ in answers)
    released = time.monotonic()
    blocker.execute("COMMIT")
    blocker.close()
    for thread in threads:
        thread.join(30)

    assert answered_while_locked == ["ack", "health"]
    assert sorted((what, code) for what, code, _ in answers) == [
        ("ack", 200),
        *[("api", 201)] * 8,
        ("health", 200),
        ("reply", 200),
    ]
    assert all(when >= released for what, _, when in answers if what in ("api", "reply"))
    names = {name for (name,) in stack.rows("SELECT supplier_name FROM items")}
    assert {f"Locked Out {n}" for n in range(8)} <= names
    assert "database is locked" not in stack.log()
