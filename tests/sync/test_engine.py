"""The sync engine: incremental fetches, atomic runs, failures, one sync per connection."""

from __future__ import annotations

import threading
import tracemalloc
from datetime import timedelta

import pytest

from bot.sync import SyncAlreadyRunning, SyncBusy, SyncService, SyncStarted, lease_name
from providers.base import (
    LIST_KINDS,
    ConnectionExpired,
    ProviderUnavailable,
    RateLimited,
    Record,
)
from store.leases import LeaseLost
from store.lists import CREATE_STAGING
from tests.conftest import ADMIN, STAFF


def service(deps, **overrides) -> SyncService:
    return SyncService(
        config=deps.config,
        store=deps.store,
        providers=deps.providers,
        clock=deps.clock,
        notifier=deps.notifier,
        executor=deps.executor,
        **overrides,
    )


def names(store, connection, kind="supplier") -> list[str]:
    return [record.name for record in store.active_records(connection.id, kind)]


def seed(provider):
    provider.put("account", "a1", "Office", code="400")
    provider.put("account", "a2", "Travel", code="420")
    provider.put("supplier", "s1", "Acme Paper")
    provider.put("supplier", "s2", "Bolt Couriers")
    provider.put("supplier", "s3", "Cosy Cafe")
    provider.put("tax_rate", "INPUT", "GST on expenses", code="INPUT")


def test_first_sync_is_full_and_stores_every_kind(deps, provider, connection):
    """With no cursor every kind is fetched whole, stored, and counted as new."""
    seed(provider)
    outcome = deps.sync.run(connection.id, requested_by=ADMIN)
    assert outcome.ok and outcome.result == "ok"
    assert [call[1:] for call in provider.fetches()] == [(kind, None) for kind in LIST_KINDS]
    assert ("session", connection.tenant_id) in provider.calls
    assert names(deps.store, connection) == ["Acme Paper", "Bolt Couriers", "Cosy Cafe"]
    assert outcome.counts["supplier"] == {"new": 3, "updated": 0, "deactivated": 0, "total": 3}
    assert outcome.counts["account"]["new"] == 2
    run = deps.store.sync_run(outcome.run_id)
    assert (run.result, run.requested_by, run.trigger) == ("ok", ADMIN, "command")
    assert run.started_at == deps.clock.now() and run.finished_at == deps.clock.now()
    assert run.counts == outcome.counts


def test_incremental_sync_passes_stored_cursor_and_stores_only_changes(deps, provider, connection):
    """The second run fetches from each stored cursor and counts only what changed."""
    seed(provider)
    deps.sync.run(connection.id)
    cursors = {kind: deps.store.list_cursor(connection.id, kind) for kind in LIST_KINDS}
    assert all(cursor is not None for cursor in cursors.values())
    provider.calls.clear()
    provider.put("supplier", "s2", "Bolt Couriers Ltd")
    provider.put("supplier", "s4", "Dandy Deli")
    provider.put("account", "a3", "Fuel", code="449")

    outcome = deps.sync.run(connection.id)

    assert [call[1:] for call in provider.fetches()] == [
        (kind, cursors[kind]) for kind in LIST_KINDS
    ]
    assert outcome.counts["supplier"] == {"new": 1, "updated": 1, "deactivated": 0, "total": 4}
    assert outcome.counts["account"] == {"new": 1, "updated": 0, "deactivated": 0, "total": 3}
    assert outcome.counts["tax_rate"] == {"new": 0, "updated": 0, "deactivated": 0, "total": 1}
    assert names(deps.store, connection) == [
        "Acme Paper",
        "Bolt Couriers Ltd",
        "Cosy Cafe",
        "Dandy Deli",
    ]
    assert not outcome.full


def test_failure_midway_keeps_old_lists_and_cursor(deps, provider, connection):
    """A run failing on a later page of a later kind changes no list and no cursor."""
    seed(provider)
    deps.sync.run(connection.id)
    before = {kind: deps.store.active_records(connection.id, kind) for kind in LIST_KINDS}
    cursors = {kind: deps.store.list_cursor(connection.id, kind) for kind in LIST_KINDS}
    provider.put("account", "a3", "Fuel")
    provider.put("supplier", "s1", "Acme Paper & Co")
    for n in range(5):
        provider.put("customer", f"c{n}", f"Customer {n}")
    provider.fail("customer", ProviderUnavailable("Xero answered 503"), page=2)

    outcome = deps.sync.run(connection.id)

    assert not outcome.ok and outcome.result == "failed"
    assert "503" in outcome.error
    after = {kind: deps.store.active_records(connection.id, kind) for kind in LIST_KINDS}
    assert after == before
    assert {kind: deps.store.list_cursor(connection.id, kind) for kind in LIST_KINDS} == cursors
    # The failed run's staged pages are gone (the TEMP table is made again, empty, if dropped).
    deps.store.database.execute(CREATE_STAGING)
    assert deps.store.database.row("SELECT COUNT(*) AS n FROM list_staging")["n"] == 0
    # The next run picks up every change from the old cursors.
    retry = deps.sync.run(connection.id)
    assert retry.ok and retry.counts["customer"]["new"] == 5
    assert "Acme Paper & Co" in names(deps.store, connection)


def test_archived_suppliers_are_kept_inactive_and_never_offered(deps, provider, connection):
    """Archived suppliers are stored, marked inactive, and left out of active_records."""
    seed(provider)
    provider.put("supplier", "s9", "Old Vendor", active=False)
    first = deps.sync.run(connection.id)
    assert first.counts["supplier"]["new"] == 3  # archived ones are stored, not announced
    assert "Old Vendor" not in names(deps.store, connection)
    assert deps.store.list_record(connection.id, "supplier", "s9").active is False

    provider.put("supplier", "s2", "Bolt Couriers", active=False)  # archived at the provider
    outcome = deps.sync.run(connection.id)
    assert outcome.counts["supplier"] == {"new": 0, "updated": 0, "deactivated": 1, "total": 2}
    assert names(deps.store, connection) == ["Acme Paper", "Cosy Cafe"]
    archived = deps.store.list_record(connection.id, "supplier", "s2")
    assert archived.active is False and archived.raw["Status"] == "ARCHIVED"


def test_full_refresh_deactivates_records_gone_from_the_provider(deps, provider, connection):
    """A full fetch ignores the cursors and marks records the provider no longer lists."""
    seed(provider)
    deps.sync.run(connection.id)
    provider.delete("supplier", "s3")
    incremental = deps.sync.run(connection.id)
    assert incremental.counts["supplier"]["deactivated"] == 0  # an incremental fetch can't tell
    provider.calls.clear()

    outcome = deps.sync.run(connection.id, full=True, requested_by=ADMIN)

    assert outcome.full and all(call[2] is None for call in provider.fetches())
    assert outcome.counts["supplier"] == {"new": 0, "updated": 0, "deactivated": 1, "total": 2}
    assert deps.store.list_record(connection.id, "supplier", "s3").active is False


def test_short_rate_limit_pauses_and_resumes(deps, provider, connection):
    """A rate limit of a few seconds is waited out and the kind fetched again, pages once."""
    for n in range(5):
        provider.put("supplier", f"s{n}", f"Supplier {n}")
    provider.fail("supplier", RateLimited(3), page=2)
    sleeps = []

    outcome = service(deps, sleep=sleeps.append).run(connection.id)

    assert outcome.ok and sleeps == [3]
    assert [c[1] for c in provider.fetches()].count("supplier") == 2
    assert outcome.counts["supplier"]["new"] == 5


def test_long_rate_limit_defers_the_run_until_the_provider_allows(deps, provider, connection):
    """A daily limit closes the run as deferred, with a clear message and a retry time."""
    seed(provider)
    provider.fail("supplier", RateLimited(6 * 3600, "day"), page=1)
    sleeps = []

    outcome = service(deps, sleep=sleeps.append).run(connection.id)

    assert sleeps == [] and outcome.result == "deferred" and not outcome.ok
    assert outcome.retry_at == deps.clock.now() + timedelta(hours=6)
    assert "daily request limit" in outcome.error and "15:00 UTC" in outcome.error
    run = deps.store.sync_run(outcome.run_id)
    assert (run.result, run.retry_at) == ("deferred", outcome.retry_at)
    assert deps.store.active_records(connection.id, "account") == []


def test_connection_expired_marks_expired_and_tells_admins(deps, provider, connection, fake_slack):
    """A rejected grant expires the connection and tells the admins with a Reconnect button."""
    provider.fail("supplier", ConnectionExpired("invalid_grant"), page=0)

    outcome = deps.sync.run(connection.id)

    assert outcome.result == "expired" and "invalid_grant" in outcome.error
    stored = deps.store.connection(connection.id)
    assert stored.status == "expired" and "invalid_grant" in stored.status_reason
    posts = fake_slack.calls_to("chat.postMessage")
    assert {post.args["channel"] for post in posts} == {"C0001", "DADMIN"}
    button = posts[0].args["blocks"][-1]["elements"][0]
    assert (button["action_id"], button["value"]) == ("connection_reconnect", str(connection.id))
    # Another run of the expired connection neither fetches nor tells anyone again.
    provider.calls.clear()
    again = deps.sync.run(connection.id)
    assert again.result == "expired" and provider.fetches() == []
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_provider_unavailable_records_failure_with_backoff(deps, provider, connection):
    """Unavailable providers fail the run; each failure in a row waits longer to retry."""
    provider.fail("account", ProviderUnavailable("timed out"), page=0)
    first = deps.sync.run(connection.id)
    provider.fail("account", ProviderUnavailable("timed out"), page=0)
    second = deps.sync.run(connection.id)
    assert (first.result, second.result) == ("failed", "failed")
    now = deps.clock.now()
    assert first.retry_at == now + timedelta(minutes=5)
    assert second.retry_at == now + timedelta(minutes=10)
    assert "timed out" in deps.store.sync_run(second.run_id).error


def test_a_second_sync_of_a_connection_is_refused_while_one_runs(deps, provider, connection):
    """While a sync holds the connection's lease, another says who started it and when."""
    seed(provider)
    provider.hold("account")
    done = threading.Event()
    started = deps.sync.request(connection.id, requested_by=STAFF, on_done=lambda o: done.set())
    assert isinstance(started, SyncStarted)
    assert provider.held.wait(5)

    second = deps.sync.request(connection.id, requested_by=ADMIN)
    assert second == SyncAlreadyRunning(started.run_id, STAFF, deps.clock.now())
    with pytest.raises(SyncBusy):
        deps.sync.run(connection.id)
    provider.release()
    assert done.wait(5)
    assert deps.store.sync_run(started.run_id).result == "ok"
    assert deps.sync.running(connection.id) is None


def test_a_crashed_runs_lease_lapses_and_the_next_run_closes_it(deps, provider, connection):
    """A run left 'running' by a dead process is closed as interrupted once its lease lapses."""
    crashed = deps.store.start_sync_run(
        connection.id, connection.team_id, full=False, trigger="schedule", requested_by=None
    )
    deps.store.stage_records(crashed.id, "supplier", [Record("supplier", "x", "Half Written")])
    assert deps.store.claim_lease(lease_name(connection.id), "dead-process", -1)  # lapsed

    outcome = deps.sync.run(connection.id)

    assert outcome.ok
    closed = deps.store.sync_run(crashed.id)
    assert closed.result == "failed" and "interrupted" in closed.error
    assert deps.store.list_record(connection.id, "supplier", "x") is None


def test_a_run_that_lost_its_lease_merges_nothing(deps, provider, connection):
    """If another process took the lease over, the stalled run's pages are not merged."""
    seed(provider)
    real_stage = deps.store.stage_records

    def stage_then_lose(run_id, kind, records):
        deps.store.database.execute("UPDATE leases SET owner = 'someone-else'")
        return real_stage(run_id, kind, records)

    deps.store.stage_records = stage_then_lose
    outcome = deps.sync.run(connection.id)
    del deps.store.stage_records
    assert outcome.result == "failed" and "took over" in outcome.error
    assert deps.store.active_records(connection.id, "account") == []


def test_merge_refuses_without_the_lease(deps, connection):
    """The merge checks the lease inside its transaction."""
    run = deps.store.start_sync_run(
        connection.id, connection.team_id, full=False, trigger="test", requested_by=None
    )
    with pytest.raises(LeaseLost):
        deps.store.merge_sync_run(run.id, connection.id, [], lease=("sync:1", "nobody"))


def test_store_functions_for_items(deps, provider, connection):
    """Items can read active records, look one up by id, and store a just-created supplier."""
    seed(provider)
    deps.sync.run(connection.id)
    created = deps.store.upsert_record(
        connection.id, Record("supplier", "s10", "Zebra Prints", raw={"ContactID": "s10"})
    )
    assert created == Record("supplier", "s10", "Zebra Prints")
    assert created.raw == {"ContactID": "s10"}
    assert deps.store.list_record(connection.id, "supplier", "s10").name == "Zebra Prints"
    assert deps.store.list_record(connection.id, "supplier", "nope") is None
    assert names(deps.store, connection)[-1] == "Zebra Prints"
    assert deps.store.record_counts(connection.id)["supplier"] == 4
    # The next sync counts it as known, not new, when the provider reports it.
    provider.put("supplier", "s10", "Zebra Prints", ContactID="s10")
    assert deps.sync.run(connection.id).counts["supplier"]["new"] == 0


def test_memory_stays_flat_for_long_lists(deps, provider, connection):
    """Pages are streamed to disk: a 6,000-record sync never holds the whole list."""
    provider.page_size = 200
    for n in range(6000):
        provider.put("customer", f"c{n}", f"Customer {n:05d}", Notes="x" * 200)
    tracemalloc.start()
    try:
        outcome = deps.sync.run(connection.id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.counts["customer"]["total"] == 6000
    # The fake's own list is already in memory; what the run adds stays around a page or two.
    assert peak < 1_000_000, peak


def test_a_supplier_stored_during_a_full_sync_stays_active(deps, provider, connection):
    """A supplier created while a full refresh is fetching is not taken for a deleted one."""
    seed(provider)
    deps.sync.run(connection.id)
    provider.hold("tracking")  # suppliers are fetched; the run waits before merging
    done = threading.Event()
    deps.sync.request(connection.id, full=True, on_done=lambda outcome: done.set())
    assert provider.held.wait(5)
    deps.store.upsert_record(connection.id, Record("supplier", "s-new", "Just Created"))
    provider.release()
    assert done.wait(5)
    assert deps.store.list_record(connection.id, "supplier", "s-new").active is True
    assert deps.store.latest_sync_run(connection.id).counts["supplier"]["deactivated"] == 0


def test_lists_are_read_whole_again_after_a_week(deps, provider, connection, clock):
    """Between weekly full reads a sync is incremental; once a list was last read whole a week
    ago it is read whole again (a provider's incremental answer can miss changes)."""
    seed(provider)
    deps.sync.run(connection.id)
    clock.advance(days=6, hours=23)
    provider.calls.clear()
    deps.sync.run(connection.id)
    assert all(cursor is not None for _, _, cursor in provider.fetches())
    clock.advance(hours=1)
    provider.calls.clear()
    outcome = deps.sync.run(connection.id)
    assert [cursor for _, _, cursor in provider.fetches()] == [None] * len(LIST_KINDS)
    assert outcome.counts["supplier"]["total"] == 3
    provider.calls.clear()
    deps.sync.run(connection.id)
    assert all(cursor is not None for _, _, cursor in provider.fetches())


def test_a_long_sync_reports_its_progress_every_few_seconds(deps, provider, connection):
    """`on_progress` hears how many records of about how many were read, at most every
    PROGRESS_EVERY_SECONDS: with the clock moving 3 s a reading, some pages are reported (not
    all); with the clock standing still, none."""
    for n in range(10):
        provider.put("supplier", f"s{n}", f"Supplier {n}")
    for step, reported in ((3, True), (0, False)):
        ticks = iter(range(0, 100_000 * step + 1, step) if step else [0] * 100_000)
        engine = service(deps, monotonic=lambda ticks=ticks: float(next(ticks)))
        heard, done = [], threading.Event()
        engine.request(
            connection.id,
            full=True,
            on_progress=heard.append,
            on_done=lambda outcome, done=done: done.set(),
        )
        assert done.wait(10)
        suppliers = [p for p in heard if p.kinds == ("supplier",)]
        assert bool(suppliers) is reported
        assert len(suppliers) < 5  # five pages of two, never one report per page
        assert all(p.expected == 10 and 0 < p.read <= 10 for p in suppliers)
        assert [p.read for p in suppliers] == sorted(p.read for p in suppliers)


def test_read_ahead_helpers_leave_no_database_connections_behind(deps, provider, connection):
    """Pages are read by a helper thread, which reads the connection's tokens (its own SQLite
    connection); each helper closes it as it ends, so syncs do not pile connections up."""
    seed(provider)
    deps.sync.run(connection.id)
    before = len(deps.store.database._connections)
    for _ in range(3):
        assert deps.sync.run(connection.id, full=True).ok
    assert len(deps.store.database._connections) == before
