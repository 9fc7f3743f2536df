"""Named leases: a row that says who holds a piece of work ("sync:12") and until when.

Claiming is one atomic upsert that succeeds only when the lease is free, lapsed, or already
ours, so two threads or two processes on one database never hold it at once; a crashed holder's
lease lapses on its own. Leases guard real concurrency, so they run on the wall clock, not on
the injected one that schedules work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class LeaseLost(RuntimeError):
    """A lease was taken over by someone else: the holder stalled past it."""


def wall_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    # Microseconds: two claims within one second must still compare correctly.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class LeaseQueries:
    def claim_lease(self, name: str, owner: str, seconds: float) -> bool:
        """Take `name` for `seconds` if it is free, lapsed or ours; True if we hold it now."""
        now = wall_now()
        cursor = self.database.execute(
            "INSERT INTO leases (name, owner, until) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until "
            "WHERE leases.until < ? OR leases.owner = excluded.owner",
            (name, owner, _iso(now + timedelta(seconds=seconds)), _iso(now)),
        )
        return cursor.rowcount == 1

    def renew_lease(self, name: str, owner: str, seconds: float) -> bool:
        """Extend a lease we hold; False if someone else took it."""
        cursor = self.database.execute(
            "UPDATE leases SET until = ? WHERE name = ? AND owner = ?",
            (_iso(wall_now() + timedelta(seconds=seconds)), name, owner),
        )
        return cursor.rowcount == 1

    def release_lease(self, name: str, owner: str) -> None:
        self.database.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    def lease_holder(self, name: str) -> str | None:
        """Who holds `name` now (a lapsed lease counts as free)."""
        row = self.database.row(
            "SELECT owner FROM leases WHERE name = ? AND until >= ?", (name, _iso(wall_now()))
        )
        return row["owner"] if row else None
