"""Synced lists (accounts, suppliers, customers, tax rates, tracking, payment methods).

Records are kept per connection and kind; archived ones stay, marked inactive, so a bill that
names one can still be shown but no prompt offers it. A sync run streams its pages into
`list_staging` under its run id and `merge_sync_run` moves them into `list_records`, advances
every cursor and closes the run in one transaction: a run that fails part way changes nothing.

The staging table is a TEMP table of the syncing thread's own connection (a run stages and
merges in one thread): staged pages never go through the WAL, so 100k staged contacts cost
no checkpoint and no durable write, and a crash simply loses them (the run is closed as
interrupted when the next one starts). The table is dropped when the run ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import orjson

from providers.base import Record
from store.leases import LeaseLost
from store.timeutil import iso, parse


@dataclass(frozen=True)
class KindResult:
    """What one list kind of a finished fetch brings: its cursor and whether it is whole."""

    kind: str
    cursor: str | None
    full: bool


CREATE_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS list_staging (run_id INTEGER NOT NULL, kind TEXT NOT NULL, "
    "remote_id TEXT NOT NULL, name TEXT NOT NULL, code TEXT, active INTEGER NOT NULL, "
    "updated_at TEXT, raw TEXT NOT NULL, PRIMARY KEY (run_id, kind, remote_id))"
)
# Drops this connection's staging (the only table of that name: see revision 0002).
DROP_STAGING = "DROP TABLE IF EXISTS list_staging"


def _raw(record: Record) -> str:
    """The record's provider fields as compact JSON with sorted keys (so an unchanged record
    encodes the same, and the merge can tell it is unchanged)."""
    return orjson.dumps(dict(record.raw), option=orjson.OPT_SORT_KEYS, default=str).decode()


def _values(record: Record) -> tuple:
    return (
        str(record.remote_id),
        record.name,
        record.code,
        int(bool(record.active)),
        iso(record.updated_at) if record.updated_at else None,
        _raw(record),
    )


def _record(kind: str, row: Mapping) -> Record:
    return Record(
        kind=kind,
        remote_id=row["remote_id"],
        name=row["name"],
        code=row["code"],
        active=bool(row["active"]),
        updated_at=parse(row["updated_at"]),
        raw=json.loads(row["raw"]),
    )


# Counting, per kind, what the staged pages change. Staged rows are compared with the live ones
# field by field; a record going from active to inactive counts as deactivated, not updated, and
# an archived record seen for the first time is stored without counting as new.
_COUNT_NEW = (
    "SELECT COUNT(*) FROM list_staging s WHERE s.run_id = :run AND s.kind = :kind "
    "AND s.active = 1 AND NOT EXISTS "
    "(SELECT 1 FROM list_records r WHERE r.connection_id = :conn AND r.kind = s.kind "
    "AND r.remote_id = s.remote_id)"
)
_COUNT_CHANGED = (
    "SELECT "
    "COUNT(*) FILTER (WHERE r.active = 1 AND s.active = 0) AS deactivated, "
    "COUNT(*) FILTER (WHERE NOT (r.active = 1 AND s.active = 0) AND ("
    "r.name IS DISTINCT FROM s.name OR r.code IS DISTINCT FROM s.code "
    "OR r.active IS DISTINCT FROM s.active OR r.updated_at IS DISTINCT FROM s.updated_at "
    "OR r.raw IS DISTINCT FROM s.raw)) AS updated "
    "FROM list_staging s JOIN list_records r ON r.connection_id = :conn AND r.kind = s.kind "
    "AND r.remote_id = s.remote_id WHERE s.run_id = :run AND s.kind = :kind"
)
# A full list leaves out what was deleted at the provider: those records become inactive. A
# record stored directly while the run was fetching (a supplier just created) is not missing,
# only newer than the list: records stored directly count only if stored before the run began.
_COUNT_MISSING = (
    "SELECT COUNT(*) FROM list_records r WHERE r.connection_id = :conn AND r.kind = :kind "
    "AND r.active = 1 AND (r.sync_run_id IS NOT NULL OR r.synced_at < :started) "
    "AND NOT EXISTS (SELECT 1 FROM list_staging s WHERE s.run_id = :run AND s.kind = r.kind "
    "AND s.remote_id = r.remote_id)"
)
_DEACTIVATE_MISSING = (
    "UPDATE list_records SET active = 0, synced_at = :now, sync_run_id = :run "
    "WHERE connection_id = :conn AND kind = :kind AND active = 1 "
    "AND (sync_run_id IS NOT NULL OR synced_at < :started) "
    "AND NOT EXISTS (SELECT 1 FROM list_staging s WHERE s.run_id = :run "
    "AND s.kind = list_records.kind AND s.remote_id = list_records.remote_id)"
)
_MERGE = (
    "INSERT INTO list_records (connection_id, kind, remote_id, name, code, active, updated_at, "
    "raw, synced_at, sync_run_id) SELECT :conn, kind, remote_id, name, code, active, "
    "updated_at, raw, :now, :run FROM list_staging WHERE run_id = :run AND kind = :kind AND true "
    "ON CONFLICT (connection_id, kind, remote_id) DO UPDATE SET name = excluded.name, "
    "code = excluded.code, active = excluded.active, updated_at = excluded.updated_at, "
    "raw = excluded.raw, synced_at = excluded.synced_at, sync_run_id = excluded.sync_run_id"
)


class ListQueries:
    # -- reading (what items and prompts use) -------------------------------------------------

    def active_records(self, connection_id: int, kind: str) -> list[Record]:
        """Every active record of `kind`, by name; archived ones are never offered."""
        rows = self.database.rows(
            "SELECT remote_id, name, code, active, updated_at, raw FROM list_records "
            "WHERE connection_id = ? AND kind = ? AND active = 1 "
            "ORDER BY lower(name), remote_id",
            (connection_id, kind),
        )
        return [_record(kind, row) for row in rows]

    def all_records(self, connection_id: int, kind: str) -> list[Record]:
        """Every record of `kind`, archived ones too (to say "archived" rather than "unknown")."""
        rows = self.database.rows(
            "SELECT remote_id, name, code, active, updated_at, raw FROM list_records "
            "WHERE connection_id = ? AND kind = ? ORDER BY lower(name), remote_id",
            (connection_id, kind),
        )
        return [_record(kind, row) for row in rows]

    def list_record(self, connection_id: int, kind: str, remote_id: str) -> Record | None:
        """One record by its id at the provider, active or not."""
        row = self.database.row(
            "SELECT remote_id, name, code, active, updated_at, raw FROM list_records "
            "WHERE connection_id = ? AND kind = ? AND remote_id = ?",
            (connection_id, kind, str(remote_id)),
        )
        return _record(kind, row) if row else None

    def upsert_record(self, connection_id: int, record: Record) -> Record:
        """Store one record now (e.g. a supplier ledgerlink just created), without a sync."""
        with self.database.write() as db:
            db.execute(
                "INSERT INTO list_records (connection_id, kind, remote_id, name, code, active, "
                "updated_at, raw, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (connection_id, kind, remote_id) DO UPDATE SET "
                "name = excluded.name, code = excluded.code, active = excluded.active, "
                "updated_at = excluded.updated_at, raw = excluded.raw, "
                "synced_at = excluded.synced_at, sync_run_id = NULL",
                (connection_id, record.kind, *_values(record), iso(self.clock.now())),
            )
        return self.list_record(connection_id, record.kind, record.remote_id)

    def direct_records_mark(self, connection_id: int, kind: str) -> tuple[int, str | None]:
        """(how many, when the newest was stored) of the records of `kind` stored directly,
        not by a sync (suppliers ledgerlink created): cheap, so every lookup can compare it."""
        row = self.database.row(
            "SELECT COUNT(*) AS n, MAX(synced_at) AS newest FROM list_records "
            "WHERE connection_id = ? AND kind = ? AND sync_run_id IS NULL",
            (connection_id, kind),
        )
        return (row["n"], row["newest"])

    def direct_records(self, connection_id: int, kind: str, since: str | None) -> list[Record]:
        """Records of `kind` stored directly at or after `since` (all of them if None)."""
        rows = self.database.rows(
            "SELECT remote_id, name, code, active, updated_at, raw FROM list_records "
            "WHERE connection_id = ? AND kind = ? AND sync_run_id IS NULL AND synced_at >= ? "
            "ORDER BY synced_at, remote_id",
            (connection_id, kind, since or ""),
        )
        return [_record(kind, row) for row in rows]

    def record_counts(self, connection_id: int) -> dict[str, int]:
        """Active records per kind."""
        rows = self.database.rows(
            "SELECT kind, COUNT(*) AS n FROM list_records WHERE connection_id = ? AND active = 1 "
            "GROUP BY kind",
            (connection_id,),
        )
        return {row["kind"]: row["n"] for row in rows}

    def list_cursor(self, connection_id: int, kind: str) -> str | None:
        return self.list_cursor_state(connection_id, kind)[0]

    def list_cursor_state(self, connection_id: int, kind: str) -> tuple[str | None, object]:
        """(cursor, when the list was last read whole), each None when unknown."""
        row = self.database.row(
            "SELECT cursor, full_at FROM list_cursors WHERE connection_id = ? AND kind = ?",
            (connection_id, kind),
        )
        return (row["cursor"], parse(row["full_at"])) if row else (None, None)

    # -- a sync run's staging -----------------------------------------------------------------

    def stage_records(self, run_id: int, kind: str, records: Iterable[Record]) -> int:
        """Keep one fetched page for the run; a record seen twice keeps its latest version.
        Each record is staged under its own kind (a page of one provider list may hold
        several: Xero's contacts are suppliers and customers); `kind` is the page's list."""
        rows = [(run_id, record.kind or kind, *_values(record)) for record in records]
        with self.database.write() as db:
            db.execute(CREATE_STAGING)
            db.executemany(
                "INSERT INTO list_staging (run_id, kind, remote_id, name, code, active, "
                "updated_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (run_id, kind, remote_id) DO UPDATE SET name = excluded.name, "
                "code = excluded.code, active = excluded.active, "
                "updated_at = excluded.updated_at, raw = excluded.raw",
                rows,
            )
        return len(rows)

    def clear_staged(self, run_id: int, kind: str | None = None) -> None:
        self.database.execute(CREATE_STAGING)
        if kind is None:
            self.database.execute("DELETE FROM list_staging WHERE run_id = ?", (run_id,))
        else:
            self.database.execute(
                "DELETE FROM list_staging WHERE run_id = ? AND kind = ?", (run_id, kind)
            )

    def merge_sync_run(
        self,
        run_id: int,
        connection_id: int,
        kinds: Sequence[KindResult],
        *,
        lease: tuple[str, str],
    ) -> dict[str, dict[str, int]]:
        """Apply the run's staged pages, advance the cursors and mark the run ok, atomically.

        `lease` is the (name, owner) the run holds; if someone else holds it now the run stalled
        past its lease and another may be running, so nothing is applied (`LeaseLost`).
        Returns per kind: new, updated, deactivated, and the active total after the merge.
        """
        now = iso(self.clock.now())
        counts: dict[str, dict[str, int]] = {}
        with self.database.write() as db:
            db.execute(CREATE_STAGING)  # (a run that staged nothing has none yet)
            holder = db.execute("SELECT owner FROM leases WHERE name = ?", (lease[0],)).fetchone()
            if holder is None or holder[0] != lease[1]:
                raise LeaseLost(f"lease {lease[0]} was taken over")
            (started,) = db.execute(
                "SELECT started_at FROM sync_runs WHERE id = ?", (run_id,)
            ).fetchone()
            for result in kinds:
                params = {"run": run_id, "kind": result.kind, "conn": connection_id}
                params |= {"now": now, "started": started}
                new = db.execute(_COUNT_NEW, params).fetchone()[0]
                deactivated, updated = db.execute(_COUNT_CHANGED, params).fetchone()
                if result.full:
                    deactivated += db.execute(_COUNT_MISSING, params).fetchone()[0]
                    db.execute(_DEACTIVATE_MISSING, params)
                db.execute(_MERGE, params)
                db.execute(
                    "INSERT INTO list_cursors (connection_id, kind, cursor, synced_at, full_at) "
                    "VALUES (:conn, :kind, :cursor, :now, :full_at) "
                    "ON CONFLICT (connection_id, kind) DO UPDATE SET cursor = excluded.cursor, "
                    "synced_at = excluded.synced_at, "
                    "full_at = COALESCE(excluded.full_at, list_cursors.full_at)",
                    {**params, "cursor": result.cursor, "full_at": now if result.full else None},
                )
                total = db.execute(
                    "SELECT COUNT(*) FROM list_records WHERE connection_id = ? AND kind = ? "
                    "AND active = 1",
                    (connection_id, result.kind),
                ).fetchone()[0]
                counts[result.kind] = {
                    "new": new,
                    "updated": updated,
                    "deactivated": deactivated,
                    "total": total,
                }
            db.execute(DROP_STAGING)
            db.execute(
                "UPDATE sync_runs SET result = 'ok', finished_at = ?, counts = ?, error = NULL, "
                "retry_at = NULL WHERE id = ?",
                (now, json.dumps(counts), run_id),
            )
        return counts
