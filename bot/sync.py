"""The sync engine: pull every list of a connection from its provider into the store.

`SyncService.request` starts a sync of one connection in the background and returns at once;
`SyncService.run` syncs synchronously (jobs and tests). Only one sync per connection runs at a
time, across threads and processes: a run holds the lease "sync:<connection id>" in the
database, renewed as pages arrive. A second request is answered with `SyncAlreadyRunning`
naming who started the running one.

A run fetches each list kind incrementally from its stored cursor (whole when there is none,
or when a full refresh is asked for) and streams the pages into a staging table; only when every
kind is fetched does one transaction merge them into the live lists and advance every cursor.
So a run that fails part way leaves the previous lists and cursors as they were, and memory
stays flat however long the lists are.

Failures: a short `RateLimited` pauses the run and re-fetches that kind; a long one (a daily
limit) closes the run as deferred until the provider's time. `ConnectionExpired` marks the
connection expired and tells the admins, with a Reconnect button. Any other provider error
closes the run as failed, to be retried by the scheduler with backoff. After three failed runs
in a row the admins get one alert, and one notice when syncing works again.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from bot import outcomes as o
from bot import wording
from bot.notices import FIRST_SYNC_FAILED, SYNC_FAILING, SYNC_RECOVERED, Notices
from bot.service import Service
from bot.sync_types import SyncAlreadyRunning, SyncBusy, SyncOutcome, SyncProgress, SyncStarted
from providers.base import (
    ONE_LIST_PER_KIND,
    ConnectionExpired,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from store.connections import ConnectionTokenStore
from store.leases import LeaseLost
from store.lists import KindResult

__all__ = [
    "SyncAlreadyRunning",
    "SyncBusy",
    "SyncOutcome",
    "SyncProgress",
    "SyncService",
    "SyncStarted",
]

log = logging.getLogger("ledgerlink.sync")

LEASE_SECONDS = 120.0  # renewed with every page; a crashed run's lease lapses after this
MAX_PAUSE_SECONDS = 60.0  # rate limits up to this long are waited out inside the run
MAX_PAUSES = 5  # per kind; then the run is deferred
BACKOFF_BASE = timedelta(minutes=5)  # after a failed run: 5, 10, 20, ... minutes
BACKOFF_MAX = timedelta(hours=6)
ALERT_AFTER_FAILURES = 3
# Every list is read whole at least this often, whatever its cursor says: an incremental read
# can miss a change (Xero does not report a contact whose supplier/customer flags changed).
FULL_REREAD = timedelta(days=7)
PROGRESS_EVERY_SECONDS = 5.0  # a long sync reports its progress at most this often
PAGES_AHEAD = 2  # pages fetched ahead of the one being stored


@dataclass
class _Claim:
    connection: object
    run: object
    lease: str
    owner: str
    progress: Callable[[SyncProgress], None] | None = None
    reported_at: float | None = None


class _Deferred(Exception):
    def __init__(self, error: RateLimited):
        self.error = error


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


_DONE = object()


def read_ahead(
    pages: Iterator, depth: int = PAGES_AHEAD, on_exit: Callable[[], None] | None = None
) -> Iterator:
    """The same pages, fetched by a helper thread up to `depth` pages ahead, so the next page
    downloads and decodes while this one is stored (the socket and SQLite let go of the GIL
    while they wait). Memory stays bounded by `depth`; an error is raised where the page it
    stopped would have come; stopping early stops the helper after its current page.
    `on_exit` runs in the helper thread as it ends (to close what it opened)."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
            put(_DONE)
        except BaseException as error:  # handed to the reader, raised there
            put(_Failed(error))
        finally:
            if on_exit is not None:
                on_exit()

    helper = threading.Thread(target=produce, name="sync-read-ahead", daemon=True)
    helper.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        helper.join(timeout=5.0)  # a helper still waiting on the provider ends on its own


def lease_name(connection_id: int) -> str:
    return f"sync:{connection_id}"


def jitter(connection_id: int, interval: timedelta, share: float = 0.05) -> timedelta:
    """A fixed offset per connection (up to `share` of the interval), so that connections made
    at the same time don't all sync at the same minute."""
    digest = hashlib.sha256(f"ledgerlink-sync:{connection_id}".encode()).digest()
    span = max(1, int(interval.total_seconds() * share))
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % span)


class SyncService(Service):
    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        **parts,
    ):
        super().__init__(**parts)
        self.notices = Notices(self.store, self.notifier)
        self._sleep = sleep
        self._monotonic = monotonic
        self._committed: list[Callable[[object], None]] = []

    def on_committed(self, listener: Callable[[object], None]) -> None:
        """Call `listener(connection)` after every sync whose lists were committed (in the
        syncing thread); items waiting for a connection's first sync go ahead from here."""
        self._committed.append(listener)

    # -- starting ---------------------------------------------------------------------------

    def request(
        self,
        connection_id: int,
        *,
        full: bool = False,
        requested_by: str | None = None,
        on_done: Callable[[SyncOutcome], None] | None = None,
        trigger: str | None = None,
        on_progress: Callable[[SyncProgress], None] | None = None,
    ) -> SyncStarted | SyncAlreadyRunning:
        """Claim the connection's sync and run it in the background; `on_done` gets the
        outcome, `on_progress` (at most every few seconds) how far a long list has come, both
        in the background thread."""
        claim = self._claim(connection_id, full, requested_by, trigger)
        if isinstance(claim, SyncAlreadyRunning):
            return claim
        claim.progress = on_progress
        try:
            self.executor.submit(self._run_and_report, claim, on_done)
        except RuntimeError:  # the executor is shutting down
            self._abandon(claim, "ledgerlink is shutting down")
            raise
        return SyncStarted(claim.run.id)

    def run(
        self,
        connection_id: int,
        *,
        full: bool = False,
        requested_by: str | None = None,
        trigger: str | None = None,
    ) -> SyncOutcome:
        """Sync now, in this thread. Raises `SyncBusy` if a sync of it is already running."""
        claim = self._claim(connection_id, full, requested_by, trigger)
        if isinstance(claim, SyncAlreadyRunning):
            raise SyncBusy(claim)
        return self._execute(claim)

    def run_scheduled(self, connection_id: int, *, seen_run_id: int | None) -> SyncOutcome | None:
        """The scheduler's sync: None if another is running, or if any run started since the
        scheduler looked (`seen_run_id`, the newest run it saw), so a due sync runs once even
        when two processes find it due at the same moment."""
        claim = self._claim(
            connection_id, False, None, "schedule", unless_runs_after=seen_run_id or 0
        )
        if claim is None or isinstance(claim, SyncAlreadyRunning):
            return None
        return self._execute(claim)

    def running(self, connection_id: int) -> SyncAlreadyRunning | None:
        """The sync of this connection running now, if any."""
        if self.store.lease_holder(lease_name(connection_id)) is None:
            return None
        run = self.store.latest_sync_run(connection_id)
        if run is None or run.result != "running":
            return SyncAlreadyRunning(run_id=0, requested_by=None, started_at=None)
        return SyncAlreadyRunning(run.id, run.requested_by, run.started_at)

    def _claim(
        self,
        connection_id: int,
        full: bool,
        requested_by: str | None,
        trigger: str | None,
        *,
        unless_runs_after: int | None = None,
    ) -> _Claim | SyncAlreadyRunning | None:
        connection = self.store.connection(connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        lease, owner = lease_name(connection_id), secrets.token_hex(8)
        if not self.store.claim_lease(lease, owner, LEASE_SECONDS):
            return self.running(connection_id) or SyncAlreadyRunning(0, None, None)
        try:
            if unless_runs_after is not None:
                latest = self.store.latest_sync_run(connection_id)
                if latest is not None and latest.id > unless_runs_after:
                    self.store.release_lease(lease, owner)
                    return None
            run = self.store.start_sync_run(
                connection_id,
                connection.team_id,
                full=full,
                trigger=trigger or ("command" if requested_by else "schedule"),
                requested_by=requested_by,
            )
        except BaseException:
            self.store.release_lease(lease, owner)
            raise
        return _Claim(connection, run, lease, owner)

    def _abandon(self, claim: _Claim, error: str) -> None:
        try:
            self.store.finish_sync_run(claim.run.id, "failed", error=error)
        finally:
            self.store.release_lease(claim.lease, claim.owner)

    def _run_and_report(self, claim: _Claim, on_done) -> SyncOutcome:
        outcome = self._execute(claim)
        if on_done is not None:
            try:
                on_done(outcome)
            except Exception:  # the caller's report failing must not hide the outcome
                log.exception("reporting sync run %s failed", claim.run.id)
        return outcome

    # -- running ----------------------------------------------------------------------------

    def _execute(self, claim: _Claim) -> SyncOutcome:
        started = self._monotonic()
        connection, run = claim.connection, claim.run
        counts: dict = {}
        # What the run is closed with if even the failure handling fails.
        result, error, retry_at = "failed", "The sync was interrupted.", None
        try:
            self._heartbeat(claim)  # a request may have waited in the executor's queue
            connection = self.store.connection(connection.id)
            result, error = self._precheck(connection)
            if result == "ok":
                counts = self._sync(claim, connection)
        except Exception as failure:
            result, error, retry_at = self._failed(failure, connection, run)
        finally:
            try:
                if result != "ok":
                    if result == "failed":
                        retry_at = self.clock.now() + self._backoff(connection.id)
                    self.store.finish_sync_run(run.id, result, error=error, retry_at=retry_at)
            finally:
                self.store.release_lease(claim.lease, claim.owner)
        seconds = self._monotonic() - started
        log.info(
            "sync run %s of connection %s: %s in %.1f s", run.id, connection.id, result, seconds
        )
        current = self.store.connection(connection.id)
        if result == "ok":
            for listener in self._committed:
                try:
                    listener(current)
                except Exception:  # one listener failing must not hide the outcome
                    log.exception("after sync run %s: a listener failed", run.id)
        elif result == "failed":
            self._tell_first_sync_failed(current, error, retry_at)
        self.check_health(current)
        return SyncOutcome(
            connection_id=connection.id,
            run_id=run.id,
            ok=result == "ok",
            full=run.full,
            seconds=seconds,
            counts=counts,
            error=error,
            result=result,
            retry_at=retry_at,
        )

    def _precheck(self, connection) -> tuple[str, str | None]:
        if connection.status != "active":
            # Stored plain, like every run error; the messages showing it escape it.
            return "expired", f"The connection is {connection.status}; an admin needs to reconnect."
        if connection.provider not in self.providers:
            name = wording.provider_name(connection.provider)
            return "failed", f"{name} isn't set up on this ledgerlink server."
        return "ok", None

    def _failed(self, failure: Exception, connection, run) -> tuple[str, str, object]:
        """How a run that raised `failure` is closed: result, words for people, retry time."""
        provider = connection.provider
        if isinstance(failure, _Deferred | RateLimited):
            limited = failure.error if isinstance(failure, _Deferred) else failure
            retry_at = self.clock.now() + timedelta(seconds=limited.retry_after)
            return (
                "deferred",
                wording.rate_limited_text(provider, limited.scope, retry_at),
                retry_at,
            )
        if isinstance(failure, ConnectionExpired):
            error = wording.revoked_text(provider, str(failure))
            self.notices.expire(connection, reason=error)
            return "expired", error, None
        if isinstance(failure, LeaseLost):
            return (
                "failed",
                "The sync took too long and another ledgerlink process took over.",
                None,
            )
        if isinstance(failure, ProviderUnavailable):
            return "failed", wording.unavailable_text(provider, str(failure)), None
        if isinstance(failure, ProviderError):
            return "failed", wording.refused_text(provider, str(failure)), None
        # A bug: recorded as a failed run (never left "running"), with the traceback in the log.
        log.error("sync run %s of connection %s failed", run.id, connection.id, exc_info=failure)
        return "failed", "Something went wrong on ledgerlink's side; it will try again later.", None

    def _sync(self, claim: _Claim, connection) -> dict:
        """Read each provider list once (a list may give several kinds: Xero's contacts are
        suppliers and customers), then merge every kind in one transaction."""
        session = self.providers[connection.provider].session(
            connection.tenant_id, ConnectionTokenStore(self.store, connection.id)
        )
        kinds: list[KindResult] = []
        for group in getattr(session, "list_groups", ONE_LIST_PER_KIND):
            cursor = self._cursor(claim, connection.id, group)
            kinds += self._fetch_group(claim, session, tuple(group), cursor)
        return self.store.merge_sync_run(
            claim.run.id, connection.id, kinds, lease=(claim.lease, claim.owner)
        )

    def _cursor(self, claim: _Claim, connection_id: int, group: tuple) -> str | None:
        """Where a group's incremental read starts: the oldest of its kinds' cursors, or None
        (read it whole) on a full run, for a kind never read, or one not read whole for
        `FULL_REREAD`."""
        if claim.run.full:
            return None
        cursors, now = [], self.clock.now()
        for kind in group:
            cursor, full_at = self.store.list_cursor_state(connection_id, kind)
            if cursor is None or full_at is None or now - full_at >= FULL_REREAD:
                return None
            cursors.append(cursor)
        return min(cursors) if len(cursors) > 1 else cursors[0]

    def _fetch_group(self, claim: _Claim, session, group: tuple, cursor) -> list[KindResult]:
        pauses = 0
        while True:
            try:
                if len(group) == 1:
                    fetch = session.fetch_list(group[0], cursor)
                else:
                    fetch = session.fetch_lists(group, cursor)
                # The helper may read the connection's tokens (a refresh): its own database
                # connection is closed when it ends.
                helper_done = self.store.database.close_thread
                for page in read_ahead(fetch.pages, on_exit=helper_done):
                    self.store.stage_records(claim.run.id, group[0], page)
                    self._heartbeat(claim)
                    self._report(claim, group, fetch)
                return [KindResult(kind, fetch.cursor, fetch.full) for kind in group]
            except RateLimited as limited:
                pauses += 1
                if limited.retry_after > MAX_PAUSE_SECONDS or pauses > MAX_PAUSES:
                    raise _Deferred(limited) from None
                log.info("sync run %s paused %.0f s: %s", claim.run.id, limited.retry_after, group)
                # The fetch is restarted from the same cursor, so its pages so far are dropped.
                for kind in group:
                    self.store.clear_staged(claim.run.id, kind)
                self._heartbeat(claim)
                self._sleep(limited.retry_after)
                self._heartbeat(claim)

    def _report(self, claim: _Claim, group: tuple, fetch) -> None:
        """Tell whoever asked how far a long list has come, at most every few seconds."""
        if claim.progress is None or not fetch.read:
            return
        now = self._monotonic()
        if claim.reported_at is None:
            claim.reported_at = now  # the clock starts with the first page
            return
        if now - claim.reported_at < PROGRESS_EVERY_SECONDS:
            return
        claim.reported_at = now
        try:
            claim.progress(SyncProgress(tuple(group), fetch.read, fetch.expected))
        except Exception:
            log.exception("reporting progress of sync run %s failed", claim.run.id)

    def _tell_first_sync_failed(self, connection, error: str | None, retry_at) -> None:
        """A connection's first sync failed: tell the admins once (items wait meanwhile)."""
        if connection is None or connection.status != "active":
            return
        if self.store.latest_sync_run(connection.id, "ok") is not None:
            return
        message = self.notifier.render(o.FirstSyncFailed(connection, error, retry_at))
        self.notices.send_once(connection, FIRST_SYNC_FAILED, str(connection.id), message)

    def _heartbeat(self, claim: _Claim) -> None:
        if not self.store.renew_lease(claim.lease, claim.owner, LEASE_SECONDS):
            raise LeaseLost(claim.lease)

    def _backoff(self, connection_id: int) -> timedelta:
        # The run being closed is still "running", so the streak holds the failures before it.
        failures = len(self.store.failure_streak(connection_id)) + 1
        interval = timedelta(hours=self.config.sync_interval_hours)
        return min(BACKOFF_BASE * 2 ** min(failures - 1, 20), BACKOFF_MAX, interval)

    # -- health -----------------------------------------------------------------------------

    def check_health(self, connection) -> bool:
        """Alert the admins once after `ALERT_AFTER_FAILURES` failed runs in a row, and tell
        them when a sync works again. Idempotent: runs after every sync and every tick."""
        if connection is None or connection.status == "disconnected":
            return False
        streak = self.store.failure_streak(connection.id)
        if len(streak) >= ALERT_AFTER_FAILURES:
            first = streak[-1]
            message = self.notifier.render(
                o.SyncFailing(
                    connection,
                    len(streak),
                    streak[0].error,
                    self.store.latest_sync_run(connection.id, "ok"),
                )
            )
            return self.notices.send_once(connection, SYNC_FAILING, str(first.id), message)
        if streak:
            return False
        alerted = self.store.latest_notice_key(connection.id, SYNC_FAILING)
        if alerted is None or self.store.notice_state(connection.id, SYNC_RECOVERED, alerted):
            return False
        last_ok = self.store.latest_sync_run(connection.id, "ok")
        if last_ok is None or last_ok.id <= int(alerted):
            return False
        return self.notices.send_once(
            connection,
            SYNC_RECOVERED,
            alerted,
            self.notifier.render(o.SyncRecovered(connection, last_ok)),
        )
