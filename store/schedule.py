"""What the scheduler reads about connections: which ones to look at, when tokens last changed."""

from __future__ import annotations

from datetime import datetime

from store.connections import Connection
from store.timeutil import parse


class ScheduleQueries:
    def scheduled_connections(self, status: str) -> list[Connection]:
        """Each installed workspace's current connection, if it has this status.

        Older rows a workspace kept as history are never scheduled.
        """
        rows = self.database.rows(
            "SELECT c.* FROM connections c "
            "LEFT JOIN workspaces w ON w.team_id = c.team_id "
            "WHERE c.status = ? AND w.uninstalled_at IS NULL "
            "AND c.id = (SELECT MAX(id) FROM connections x "
            "WHERE x.team_id = c.team_id AND x.status != 'disconnected') "
            "ORDER BY c.id",
            (status,),
        )
        return [Connection.from_row(row) for row in rows]

    def tokens_refreshed_at(self, connection_id: int) -> datetime | None:
        """When the connection's tokens last changed (a refresh or a reconnect), if ever."""
        row = self.database.row(
            "SELECT refreshed_at FROM token_refreshes WHERE connection_id = ?", (connection_id,)
        )
        return parse(row["refreshed_at"]) if row else None
