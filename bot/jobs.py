"""The scheduled jobs, each computing what is due from stored state (see `bot.scheduler`).

* `token-health`: once 75% of the provider's refresh-token idle window has passed since the
  tokens last changed, refresh them; a rejected grant expires the connection and tells admins.
* `connection-expiry`: once `expires_at` has passed, mark the connection expired and tell the
  admins (once) that publishing is paused until someone reconnects.
* `expiry-reminders`: 30, 7 and 1 days (`LEDGERLINK_REMINDER_DAYS`) before `expires_at`,
  remind the admins, once per reminder and expiry date (a reconnect starts a new cycle).
* `sync`: `LEDGERLINK_SYNC_INTERVAL_HOURS` after the last successful sync, plus a fixed
  per-connection jitter (at once when never synced; after a failure, at its retry time), sync
  the lists; after 3 failed syncs in a row alert once, and say when it works again.

Nothing is remembered in memory between ticks, so a restart loses nothing and a schedule missed
during downtime runs once. A tick reads what it needs for every connection in a few queries
(runs, token changes, notices out), not a few per connection: with N processes each ticking
every minute, the scheduler's cost follows the work that is due, not the number of workspaces.
Work that two processes could both find due is claimed in the
database first: a sync or token refresh through a lease row, a notice through its unique row.

Items add two jobs: retrying queued publishes (and recovering ones a crash interrupted), and
reminding people of supplier prompts nobody answered. The `outbox` job delivers the Slack
messages that are due (`ledgerlink serve` runs a sender thread for it instead). A caller may
pass more jobs with `build_jobs(deps, extra=...)`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot import outcomes as o
from bot.notices import EXPIRED, EXPIRY_REMINDER, SYNC_FAILING, SYNC_RECOVERED, Notices, cycle
from bot.outbox import OutboxJob
from bot.scheduler import Job
from bot.sync import jitter
from bot.wording import revoked_text
from providers.base import ConnectionExpired, ProviderError
from store.connections import ConnectionTokenStore

log = logging.getLogger("ledgerlink.jobs")

REFRESH_AT_SHARE = 0.75  # refresh once this share of the idle window has passed
TOKEN_LEASE_SECONDS = 300.0
TOKEN_RETRY_SECONDS = 900.0  # after a failed refresh, wait this long before the next try


def build_jobs(deps, extra: Iterable[Job] = ()) -> list[Job]:
    jobs: list[Job] = [
        TokenHealthJob(deps),
        ConnectionExpiryJob(deps),
        ExpiryReminderJob(deps),
        SyncJob(deps),
    ]
    if deps.items is not None:
        jobs += [ItemRetryJob(deps.items), PromptReminderJob(deps.items)]
    if deps.outbox is not None:
        # Last, so the messages the other jobs queued go out in the same tick.
        jobs.append(OutboxJob(deps.outbox))
    jobs += list(extra)
    return jobs


class _ConnectionJob:
    """A job that looks at every scheduled connection."""

    name = "job"

    def __init__(self, deps):
        self.deps = deps
        self.store = deps.store
        self.notices = Notices(deps.store, deps.notifier)


class SyncJob(_ConnectionJob):
    name = "sync"

    def run_due(self, now: datetime) -> int:
        done = 0
        latest_runs = self.store.scheduled_sync_runs("active")
        successes = self.store.scheduled_sync_runs("active", "ok")
        all_clear_owed = self.store.unanswered_notices(SYNC_FAILING, SYNC_RECOVERED)
        for connection in self.store.scheduled_connections("active"):
            if connection.provider not in self.deps.providers:
                continue
            latest = latest_runs.get(connection.id)
            due = self.due_at(connection, latest, successes.get(connection.id))
            if due is not None and due <= now:
                outcome = self.deps.sync.run_scheduled(
                    connection.id, seen_run_id=latest.id if latest else None
                )
                done += outcome is not None
            # An alert, or its all-clear, that could not be delivered after the run is retried
            # here; a connection whose last run worked and owes no all-clear has none.
            if (latest is not None and latest.result != "ok") or connection.id in all_clear_owed:
                done += self.deps.sync.check_health(connection)
        return done

    def due_at(self, connection, latest, last_ok=None) -> datetime | None:
        """When the connection's next sync is due; None while one is running. A run left
        'running' by a process that died (its lease lapsed) is due again at once. `last_ok`,
        the newest successful run, is read here when not given."""
        if latest is not None and latest.result == "running":
            if self.deps.sync.running(connection.id) is not None:
                return None
            # A run records its result before it releases its lease: the lease may be free
            # because the run just finished, so read the runs again before calling it dead.
            latest = self.store.latest_sync_run(connection.id)
            if latest is not None and latest.result == "running":
                return latest.started_at
            last_ok = None
        interval = timedelta(hours=self.deps.config.sync_interval_hours)
        last_ok = last_ok or self.store.latest_sync_run(connection.id, "ok")
        if last_ok is None:
            due = connection.connected_at
        else:
            due = last_ok.finished_at + interval + jitter(connection.id, interval)
        if latest is not None and latest.result in ("failed", "deferred") and latest.retry_at:
            due = max(due, latest.retry_at)
        return due


class ExpiryReminderJob(_ConnectionJob):
    name = "expiry-reminders"

    def run_due(self, now: datetime) -> int:
        done = 0
        sent = self.store.notice_keys(EXPIRY_REMINDER)
        for connection in self.store.scheduled_connections("active"):
            days = self.due_reminder(connection, now)
            if days is None:
                continue
            key = f"{cycle(connection)}/{days}"
            if (connection.id, key) in sent:
                continue
            message = self.deps.notifier.render(o.ExpiryReminder(connection, now))
            done += self.notices.send_once(connection, EXPIRY_REMINDER, key, message)
        return done

    def due_reminder(self, connection, now: datetime) -> int | None:
        """The most recent reminder due (in days before expiry): after downtime, only it is
        sent. Reminders that would fall before the connection was made are skipped."""
        if now >= connection.expires_at:
            return None
        due = [
            days
            for days in self.deps.config.reminder_days
            if connection.connected_at <= connection.expires_at - timedelta(days=days) <= now
        ]
        return min(due) if due else None


class ConnectionExpiryJob(_ConnectionJob):
    name = "connection-expiry"

    def run_due(self, now: datetime) -> int:
        done = 0
        for connection in self.store.scheduled_connections("active"):
            if connection.expires_at <= now:
                self.notices.expire(connection, reason="it reached its expiry date.")
                done += 1
        # Expired connections whose notice could not be delivered yet (retries are bounded).
        told = self.store.notice_keys(EXPIRED)
        for connection in self.store.scheduled_connections("expired"):
            if (connection.id, cycle(connection)) not in told:
                done += self.notices.tell_expired(connection)
        return done


class TokenHealthJob(_ConnectionJob):
    """Refresh tokens before they lapse unused, and find revoked grants before a publish does.

    Xero refresh tokens die after 60 days unused, QuickBooks' after 100
    (`capabilities.refresh_token_idle_days`); a token is refreshed once 75% of that has passed
    since the tokens last changed, or earlier if the provider said when it expires.
    """

    name = "token-health"

    def run_due(self, now: datetime) -> int:
        done = 0
        refreshed = self.store.tokens_refreshed()
        for connection in self.store.scheduled_connections("active"):
            provider = self.deps.providers.get(connection.provider)
            if provider is None:
                continue
            if now < self.due_at(connection, provider, refreshed.get(connection.id)):
                continue
            done += self._refresh(connection, provider, now)
        return done

    def due_at(self, connection, provider, refreshed_at: datetime | None) -> datetime:
        """Due once the share of the idle window has passed since the tokens last changed
        (`refreshed_at`; never changed: since the connection was made)."""
        idle = timedelta(days=provider.capabilities.refresh_token_idle_days)
        changed = refreshed_at or connection.connected_at
        due = changed + idle * REFRESH_AT_SHARE
        if connection.refresh_expires_at is not None:
            due = min(due, connection.refresh_expires_at - idle * (1 - REFRESH_AT_SHARE))
        return due

    def _refresh(self, connection, provider, now: datetime) -> bool:
        lease, owner = f"tokens:{connection.id}", secrets.token_hex(8)
        if not self.store.claim_lease(lease, owner, TOKEN_LEASE_SECONDS):
            return False
        release = True
        try:
            # Another process may have refreshed since we looked.
            connection = self.store.connection(connection.id)
            refreshed_at = self.store.tokens_refreshed_at(connection.id)
            if connection.status != "active" or now < self.due_at(
                connection, provider, refreshed_at
            ):
                return False
            tokens = ConnectionTokenStore(self.store, connection.id)
            tokens.refresh_with(tokens.current(), provider.refresh)
            log.info("refreshed the tokens of connection %s ahead of expiry", connection.id)
            return True
        except ConnectionExpired as expired:
            reason = revoked_text(connection.provider, str(expired))
            self.notices.expire(connection, reason=reason)
            return True
        except ProviderError as error:
            # Keep the lease as a pause before the next try, instead of trying every tick.
            log.warning("could not refresh connection %s's tokens: %s", connection.id, error)
            release = not self.store.renew_lease(lease, owner, TOKEN_RETRY_SECONDS)
            return False
        except LookupError:  # no tokens stored: nothing to keep alive
            return False
        finally:
            if release:
                self.store.release_lease(lease, owner)


class ItemRetryJob:
    """Publish items whose retry time has come, and recover ones a crash left mid-publish."""

    name = "item-retry"

    def __init__(self, items):
        self.items = items

    def run_due(self, now) -> int:
        return self.items.run_due(now)


class PromptReminderJob:
    """Remind the submitter, once, of a supplier prompt nobody answered for 24 hours, and post
    again (every few minutes, for a day) the prompts Slack refused."""

    name = "prompt-reminders"

    def __init__(self, items):
        self.items = items

    def run_due(self, now) -> int:
        return self.items.remind_prompts(now)
