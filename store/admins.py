"""Admins granted inside ledgerlink (besides Slack's own admins and LEDGERLINK_ADMINS)."""

from __future__ import annotations

from store.timeutil import iso


class AdminQueries:
    def admins(self, team_id: str) -> list[dict]:
        return self.database.rows(
            "SELECT user_id, added_by, added_at FROM admins WHERE team_id = ? ORDER BY added_at",
            (team_id,),
        )

    def is_listed_admin(self, team_id: str, user_id: str) -> bool:
        return (
            self.database.row(
                "SELECT 1 AS yes FROM admins WHERE team_id = ? AND user_id = ?", (team_id, user_id)
            )
            is not None
        )

    def add_admin(self, team_id: str, user_id: str, *, added_by: str) -> bool:
        """Grant admin; False when the user already was one."""
        cursor = self.database.execute(
            "INSERT INTO admins (team_id, user_id, added_by, added_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (team_id, user_id) DO NOTHING",
            (team_id, user_id, added_by, iso(self.clock.now())),
        )
        return cursor.rowcount == 1

    def remove_admin(self, team_id: str, user_id: str) -> bool:
        cursor = self.database.execute(
            "DELETE FROM admins WHERE team_id = ? AND user_id = ?", (team_id, user_id)
        )
        return cursor.rowcount == 1
