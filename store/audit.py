"""An append-only audit log of who did what, per workspace."""

from __future__ import annotations

import json

from store.timeutil import iso


class AuditQueries:
    def audit(self, team_id: str, actor: str, action: str, **detail) -> None:
        self.database.execute(
            "INSERT INTO audit_log (team_id, actor, action, detail, at) VALUES (?, ?, ?, ?, ?)",
            (
                team_id,
                actor,
                action,
                json.dumps(detail, sort_keys=True, default=str),
                iso(self.clock.now()),
            ),
        )

    def audit_entries(self, team_id: str, *, limit: int = 50) -> list[dict]:
        rows = self.database.rows(
            "SELECT actor, action, detail, at FROM audit_log WHERE team_id = ? "
            "ORDER BY id DESC LIMIT ?",
            (team_id, limit),
        )
        return [{**row, "detail": json.loads(row["detail"])} for row in rows]
