"""Publishing one item twice at once sends one bill: the item's compare-and-set decides.

Two publishers (threads of one process, or two OS processes on one database file) are held
at a barrier just before `ready -> publishing`, after both have read the item as ready, and
at another just after it, so both have tried the move before either sends a bill: every run
is a real race, and exactly one of them may reach the provider.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.clock import FixedClock
from providers.base import Record
from store import open_store
from tests.fakes.databases import BACKENDS
from tests.fakes.rendezvous import FileBarrier, meet_around
from tests.items.publish_worker import BillCountingProvider, item_service, publishing
from tests.sync.conftest import make_connection
from tests.sync.fakes import NOW

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def secret_key():
    return Fernet.generate_key().decode()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Every race here runs on both backends: one SQLite file, or PostgreSQL as N hosts."""
    return request.param


@pytest.fixture
def store(database_target, secret_key):
    s = open_store(database_target, secret_key=secret_key, clock=FixedClock(NOW))
    yield s
    s.close()


def ready_item(store):
    """An item whose supplier and category are known (the category is a synced expense
    account, resolved to its id), moved to `ready` as triage does."""
    connection = make_connection(store)
    raw = {"Name": "General Expenses", "Class": "EXPENSE", "Type": "EXPENSE", "Status": "ACTIVE"}
    store.upsert_record(
        connection.id, Record("account", "acc-400", "General Expenses", "400", raw=raw)
    )
    item, _ = store.create_item(
        team_id=connection.team_id,
        source="api",
        supplier_key="costa coffee",
        values={"supplier_name": "Costa Coffee", "date": "2026-11-20", "total": "4.50"},
        channel_id="C0001",
    )
    return store.move_item(
        item.id,
        ("received",),
        "ready",
        connection_id=connection.id,
        supplier_id="s-costa",
        supplier_display="Costa Coffee",
        resolution="exact",
        category="400",
        category_account_id="acc-400",
    )


def statuses(store, item_id: int) -> list[str]:
    return [event["status"] for event in store.item_events(item_id)]


def test_move_item_is_a_compare_and_set(store):
    """A move succeeds only from one of the expected statuses: the second `ready ->
    publishing` finds nothing to move, changes nothing and records nothing."""
    item = ready_item(store)

    first = store.move_item(item.id, ("ready",), "publishing", attempts=1, detail="first")
    second = store.move_item(item.id, ("ready",), "publishing", attempts=2, detail="second")
    wrong = store.move_item(item.id, ("failed", "held"), "discarded")

    assert (first.status, first.attempts) == ("publishing", 1)
    assert second is None and wrong is None
    current = store.item(item.id)
    assert (current.status, current.attempts) == ("publishing", 1)
    assert statuses(store, item.id) == ["received", "ready", "publishing"]


def test_two_threads_publishing_one_item_send_one_bill(store):
    """Two threads publish the same ready item, both past the status check when they race:
    one bill is sent, the item is published once, and the loser sends nothing."""
    item = ready_item(store)
    provider = BillCountingProvider()
    service = item_service(store, provider)
    barrier = threading.Barrier(2, timeout=30)
    meet_around(store, "move_item", publishing, before=barrier, after=barrier)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(service.publish(item.id))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert provider.bills == [item.idempotency_key]
    assert len(results) == 2
    assert store.item(item.id).status == "published"
    assert statuses(store, item.id) == ["received", "ready", "publishing", "published"]


def test_two_processes_publishing_one_item_send_one_bill(
    store, database_target, secret_key, tmp_path
):
    """The same race between two OS processes on one database: one bill in all."""
    item = ready_item(store)
    command = [
        sys.executable,
        "-m",
        "tests.items.publish_worker",
        database_target,
        secret_key,
    ]
    workers = [
        subprocess.Popen(
            [*command, str(item.id), str(tmp_path / "barrier")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=60) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], outputs
    bills = sorted(int(out.split("bills: ")[1].split()[0]) for out, _ in outputs)
    assert bills == [0, 1], outputs
    assert FileBarrier(tmp_path / "barrier", 2).met() == [2, 2]  # they did meet, twice
    assert store.item(item.id).status == "published"
    assert statuses(store, item.id) == ["received", "ready", "publishing", "published"]
