"""The record of every sync run: when, who or what asked, the result and counts per kind."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from store.lists import CREATE_STAGING, DROP_STAGING
from store.timeutil import iso, parse

RESULTS = ("running", "ok", "failed", "deferred", "expired")


@dataclass(frozen=True)
class SyncRun:
    id: int
    connection_id: int
    team_id: str
    full: bool
    trigger: str
    requested_by: str | None
    started_at: datetime
    finished_at: datetime | None
    result: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    error: str | None = None
    retry_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict) -> SyncRun:
        return cls(
            id=row["id"],
            connection_id=row["connection_id"],
            team_id=row["team_id"],
            full=bool(row["full"]),
            trigger=row["trigger"],
            requested_by=row["requested_by"],
            started_at=parse(row["started_at"]),
            finished_at=parse(row["finished_at"]),
            result=row["result"],
            counts=json.loads(row["counts"] or "{}"),
            error=row["error"],
            retry_at=parse(row["retry_at"]),
        )


class SyncRunQueries:
    def start_sync_run(
        self,
        connection_id: int,
        team_id: str,
        *,
        full: bool,
        trigger: str,
        requested_by: str | None,
    ) -> SyncRun:
        """Record a new run (the caller holds the connection's sync lease).

        Runs left 'running' by a holder that crashed are closed as failed, and their staged
        pages dropped, in the same transaction.
        """
        now = iso(self.clock.now())
        with self.database.write() as db:
            db.execute(CREATE_STAGING)
            db.execute(
                "DELETE FROM list_staging WHERE run_id IN "
                "(SELECT id FROM sync_runs WHERE connection_id = ? AND result = 'running')",
                (connection_id,),
            )  # (pages this thread staged for a run it never closed)
            db.execute(
                "UPDATE sync_runs SET result = 'failed', finished_at = ?, "
                "error = 'the sync was interrupted (ledgerlink stopped while it ran)' "
                "WHERE connection_id = ? AND result = 'running'",
                (now, connection_id),
            )
            run_id = db.scalar(
                'INSERT INTO sync_runs (connection_id, team_id, "full", trigger, requested_by, '
                "started_at, result) VALUES (?, ?, ?, ?, ?, ?, 'running') RETURNING id",
                (connection_id, team_id, int(full), trigger, requested_by, now),
            )
        return self.sync_run(run_id)

    def finish_sync_run(
        self,
        run_id: int,
        result: str,
        *,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> SyncRun:
        """Close a run that did not merge (failed, deferred, expired); its staging is dropped."""
        if result not in RESULTS or result in ("running", "ok"):
            raise ValueError(f"not a closing result: {result!r}")
        with self.database.write() as db:
            db.execute(DROP_STAGING)  # this thread's staging (the run's own)
            db.execute(
                "UPDATE sync_runs SET result = ?, finished_at = ?, error = ?, retry_at = ? "
                "WHERE id = ?",
                (
                    result,
                    iso(self.clock.now()),
                    error,
                    iso(retry_at) if retry_at else None,
                    run_id,
                ),
            )
        return self.sync_run(run_id)

    def sync_run(self, run_id: int) -> SyncRun | None:
        row = self.database.row("SELECT * FROM sync_runs WHERE id = ?", (run_id,))
        return SyncRun.from_row(row) if row else None

    def sync_runs(self, connection_id: int, *, limit: int = 20) -> list[SyncRun]:
        """The newest runs first."""
        rows = self.database.rows(
            "SELECT * FROM sync_runs WHERE connection_id = ? ORDER BY id DESC LIMIT ?",
            (connection_id, limit),
        )
        return [SyncRun.from_row(row) for row in rows]

    def latest_sync_run(self, connection_id: int, *results: str) -> SyncRun | None:
        """The newest run, or the newest with one of `results` (e.g. "ok": the last success)."""
        sql = "SELECT * FROM sync_runs WHERE connection_id = ?"
        params: list = [connection_id]
        if results:
            sql += f" AND result IN ({', '.join('?' for _ in results)})"
            params += results
        row = self.database.row(sql + " ORDER BY id DESC LIMIT 1", tuple(params))
        return SyncRun.from_row(row) if row else None

    def failure_streak(self, connection_id: int, *, limit: int = 50) -> list[SyncRun]:
        """The failed runs since the last run that did not fail, newest first.

        Runs deferred by a rate limit, and the one running now, neither extend nor end it.
        """
        streak = []
        for run in self.sync_runs(connection_id, limit=limit):
            if run.result in ("running", "deferred"):
                continue
            if run.result != "failed":
                break
            streak.append(run)
        return streak
