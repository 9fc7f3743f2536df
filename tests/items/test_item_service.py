"""ItemService rules that don't need Slack or a provider: holds and their releases."""

from __future__ import annotations

import contextlib

import pytest
from cryptography.fernet import Fernet

from bot.clock import FixedClock
from bot.config import Config
from bot.item_input import parse_item
from bot.items import ItemService, SupplierDirectory
from handlers.render import render
from handlers.settings import default_account_problem
from providers.base import Record, ValidationFailed
from store import open_store
from store.workspaces import Settings
from tests.sync.conftest import make_connection
from tests.sync.fakes import NOW


class RecordingNotifier:
    """Stands in for Slack: remembers what would have been posted."""

    render = staticmethod(render)

    def __init__(self):
        self.posts = []

    def post(self, team_id, channel, message, *, thread_ts=None):
        self.posts.append((channel, message["text"]))
        return f"1.{len(self.posts)}"

    def show_item(self, item, message, *, prompt=False):
        self.posts.append((item.channel_id, message["text"]))

    def transaction(self):
        return contextlib.nullcontext()

    def tell_admins(self, team_id, connection, message):
        self.posts.append(("admins", message["text"]))
        return True

    def direct(self, team_id, user_id, message):
        self.posts.append((user_id, message["text"]))
        return "1.0"


class NoExecutor:
    def submit(self, fn, *args, **kwargs):
        raise AssertionError("nothing should be published in these tests")


@pytest.fixture
def service(tmp_path):
    store = open_store(
        str(tmp_path / "l.db"), secret_key=Fernet.generate_key().decode(), clock=FixedClock(NOW)
    )
    yield ItemService(
        config=Config(),
        store=store,
        providers={},
        clock=FixedClock(NOW),
        notifier=RecordingNotifier(),
        executor=NoExecutor(),
    )
    store.close()


def submit(service, **fields):
    data, errors = parse_item(
        {
            "supplier": "Costa Coffee",
            "date": "2026-11-20",
            "total": "4.50",
            "channel": "C0001",
            **fields,
        }
    )
    assert not errors
    return service.submit("T1", data, source="api")[0]


def test_without_a_connection_items_are_held_and_explained(service):
    """No connection yet: the item is held (not lost) and the channel is told why."""
    item = submit(service)
    assert (item.status, item.hold_reason) == ("held", "no_connection")
    assert "isn't connected to accounting software" in service.notifier.posts[-1][1]


def test_publish_anyway_only_releases_duplicate_holds(service):
    """A hold for want of a connection is not released by "Publish anyway"."""
    item = submit(service)
    _, reason = service.publish_anyway(item, actor="U1")
    assert reason == "already" and service.store.item(item.id).status == "held"


def test_duplicates_are_held_with_a_pointer_to_the_first(service):
    """The same supplier, total and reference twice: the second is held as a duplicate."""
    first = submit(service, reference="R-1")
    second = submit(service, reference="R-1", date="2026-11-21")
    assert (second.status, second.hold_reason, second.duplicate_of) == (
        "held",
        "duplicate",
        first.id,
    )
    discarded, reason = service.discard(second, actor="U1")
    assert reason is None and discarded.status == "discarded"
    assert [e["status"] for e in service.store.item_events(second.id)] == [
        "received",
        "held",
        "discarded",
    ]


def test_same_external_id_returns_the_first_item(service):
    """Submitting an external_id again stores nothing new."""
    first = submit(service, external_id="x-1")
    data, _ = parse_item(
        {"supplier": "Other", "date": "2026-11-22", "total": "9", "external_id": "x-1"}
    )
    again, created = service.submit("T1", data, source="api")
    assert not created and again.id == first.id and again.supplier_name == "Costa Coffee"
    data_other_team, _ = parse_item(
        {"supplier": "Other", "date": "2026-11-22", "total": "9", "external_id": "x-1"}
    )
    other, created = service.submit("T2", data_other_team, source="api")
    assert created and other.id != first.id


def sync_chart(store, connection):
    """A chart of accounts and one committed sync for `connection`, without a provider."""
    for remote_id, name, code, status in (
        ("acc-429", "Café Supplies", "429", "ACTIVE"),
        ("acc-300", "Purchases (old)", "300", "ARCHIVED"),
    ):
        raw = {"Name": name, "Type": "EXPENSE", "Class": "EXPENSE", "Status": status}
        store.upsert_record(
            connection.id, Record("account", remote_id, name, code, status == "ACTIVE", raw=raw)
        )
    run = store.start_sync_run(
        connection.id, connection.team_id, full=True, trigger="test", requested_by=None
    )
    assert store.claim_lease("sync:test", "me", 60)
    store.merge_sync_run(run.id, connection.id, [], lease=("sync:test", "me"))
    store.release_lease("sync:test", "me")


def test_the_default_account_in_settings_resolves_like_a_category(service):
    """A default purchases account saved by name, code or id is that synced account; an
    archived one is refused with the reason, so the item fails visibly rather than misfiling."""
    connection = make_connection(service.store, team_id="T1")
    sync_chart(service.store, connection)
    item = submit(service, supplier="Unknown Ltd")
    for saved in ("cafe supplies", "429", "acc-429"):
        account = service._account(item, connection, Settings(default_account_code=saved))
        assert account.remote_id == "acc-429", saved
    with pytest.raises(ValidationFailed, match=r"default account in settings: .* is archived"):
        service._account(item, connection, Settings(default_account_code="300"))
    problem = default_account_problem(service.store, connection, "Purchases (old)")
    assert problem and "is archived" in problem
    assert default_account_problem(service.store, connection, "429") is None


def test_an_item_waits_for_the_first_sync_and_its_category_is_checked_then(service):
    """Before the first sync there is nothing to check a category against: the item waits
    ("Waiting for the first sync…"). When the sync commits it is sorted, and a category the
    chart does not have fails it visibly (kept, with the closest names), not silently."""
    connection = make_connection(service.store, team_id="T1")
    assert service.check_category("T1", "Cafe Suplies") is None
    item = submit(service, category="Cafe Suplies")
    assert (item.status, item.hold_reason) == ("held", "first_sync")
    assert "Waiting for the first sync of *Acme Ltd*" in service.notifier.posts[-1][1]
    sync_chart(service.store, connection)
    assert service.release_waiting(service.store.connection(connection.id)) == 1
    failed = service.store.item(item.id)
    assert failed.status == "failed"
    assert "Closest: Café Supplies (429)" in failed.last_error
    assert "Cafe Suplies" in service.check_category("T1", "Cafe Suplies").error


def test_a_cleaned_supplier_name_keeps_the_submitted_text_in_the_history(service):
    """Control characters are stored as spaces, and the history shows the name as sent."""
    item = submit(service, supplier="Caf\x80 Nero\x07 Ltd")
    assert item.supplier_name == "Caf Nero Ltd"
    details = [event["detail"] for event in service.store.item_events(item.id)]
    assert "supplier as submitted: 'Caf\\x80 Nero\\x07 Ltd'" in details


def test_a_supplier_created_by_another_process_is_found_without_a_sync(service):
    """Two processes share the database: a supplier one of them creates (stored directly, not
    by a sync) is offered by the other's next lookup, and exactly once."""
    store = service.store
    connection = make_connection(store)
    store.upsert_record(connection.id, Record("supplier", "s-1", "Costa Coffee", None, True))
    here, there = SupplierDirectory(store), SupplierDirectory(store)
    before = here.index(connection.id).candidates("Pret A Manger Ltd")
    assert "s-2" not in [c.supplier_id for c in before]  # only Costa Coffee, the closest
    created = Record("supplier", "s-2", "Pret A Manger", None, True)
    store.upsert_record(connection.id, created)
    there.add(connection.id, created)
    found = here.index(connection.id).candidates("Pret A Manger Ltd")
    assert [c.supplier_id for c in found].count("s-2") == 1
    assert len(here.index(connection.id)) == 2
