"""ItemService rules that don't need Slack or a provider: holds and their releases."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.clock import FixedClock
from bot.config import Config
from bot.item_input import parse_item
from bot.items import ItemService
from store import open_store
from tests.sync.fakes import NOW


class RecordingNotifier:
    """Stands in for Slack: remembers what would have been posted."""

    def __init__(self):
        self.posts = []

    def post(self, team_id, channel, message, *, thread_ts=None):
        self.posts.append((channel, message["text"]))
        return f"1.{len(self.posts)}"

    def update(self, team_id, channel, ts, message):
        self.posts.append((channel, message["text"]))
        return True

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
