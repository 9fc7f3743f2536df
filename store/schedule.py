"""What the scheduler reads about connections: which ones to look at, when tokens last changed."""

from __future__ import annotations

from datetime import datetime

from store.connections import Connection
from store.sync_runs import SyncRun
from store.timeutil import parse

# The current connection of each installed workspace (history rows are never scheduled).
_SCHEDULED = (
    "SELECT c.id FROM connections c LEFT JOIN workspaces w ON w.team_id = c.team_id "
    "WHERE c.status = ? AND w.uninstalled_at IS NULL "
    "AND c.id = (SELECT MAX(id) FROM connections x "
    "WHERE x.team_id = c.team_id AND x.status != 'disconnected')"
)


class ScheduleQueries:
    def scheduled_connections(self, status: str) -> list[Connection]:
        """Each installed workspace's current connection, if it has this status.

        Older rows a workspace kept as history are never scheduled.
        """
        rows = self.database.rows(
            f"SELECT * FROM connections WHERE id IN ({_SCHEDULED}) ORDER BY id",  # noqa: S608
            (status,),
        )
        return [Connection.from_row(row) for row in rows]

    # -- what a tick reads in a few queries, whatever the number of connections -------------

    def scheduled_sync_runs(self, status: str, *results: str) -> dict[int, SyncRun]:
        """Each scheduled connection's newest sync run (with one of `results`, if given), by
        connection id; connections without one are left out."""
        only = f"AND r.result IN ({', '.join('?' for _ in results)}) " if results else ""
        rows = self.database.rows(
            "SELECT * FROM sync_runs WHERE id IN (SELECT (SELECT MAX(r.id) FROM sync_runs r "  # noqa: S608
            f"WHERE r.connection_id = s.id {only}) FROM ({_SCHEDULED}) s)",
            (*results, status),
        )
        return {row["connection_id"]: SyncRun.from_row(row) for row in rows}

    def tokens_refreshed(self) -> dict[int, datetime]:
        """When each connection's tokens last changed, by connection id (never: left out)."""
        rows = self.database.rows("SELECT connection_id, refreshed_at FROM token_refreshes")
        return {row["connection_id"]: parse(row["refreshed_at"]) for row in rows}

    def notice_keys(self, kind: str) -> set[tuple[int, str]]:
        """(connection id, key) of every notice of `kind` sent or being sent."""
        rows = self.database.rows(
            "SELECT connection_id, key FROM notices WHERE kind = ? "
            "AND state IN ('sending', 'sent')",
            (kind,),
        )
        return {(row["connection_id"], row["key"]) for row in rows}

    def unanswered_notices(self, kind: str, answer: str) -> set[int]:
        """Connections with a notice of `kind` out and no notice of kind `answer` with the
        same key (an alert whose all-clear is still owed)."""
        rows = self.database.rows(
            "SELECT DISTINCT n.connection_id FROM notices n WHERE n.kind = ? "
            "AND n.state IN ('sending', 'sent') AND NOT EXISTS (SELECT 1 FROM notices a "
            "WHERE a.connection_id = n.connection_id AND a.kind = ? AND a.key = n.key)",
            (kind, answer),
        )
        return {row["connection_id"] for row in rows}

    def tokens_refreshed_at(self, connection_id: int) -> datetime | None:
        """When the connection's tokens last changed (a refresh or a reconnect), if ever."""
        row = self.database.row(
            "SELECT refreshed_at FROM token_refreshes WHERE connection_id = ?", (connection_id,)
        )
        return parse(row["refreshed_at"]) if row else None
