"""Sandbox Books' storage: one SQLite file of its own, beside the demo database.

The sandbox is a separate system that ledgerlink reaches over HTTP, so its data is not in
ledgerlink's database (and needs none of ledgerlink's migrations): deleting the demo database
and `<demo db>.sandbox.db` together starts over. Its SQL lives here rather than in `store/`,
which owns ledgerlink's own persistence.

Ledger records (accounts, contacts, tax rates, tracking categories, payment methods, bills) are
JSON documents keyed by organisation, collection and id. Every change takes the organisation's
next change number (`seq`), which is what list cursors are made of: "everything changed after
seq N" is exact, whatever the clocks say. OAuth secrets (codes, access and refresh tokens) are
stored as SHA-256 hashes only.

One connection, used under a lock: the sandbox serves one person's demo, and a lock makes every
read-modify-write (duplicate names, code redemption, token rotation) trivially atomic.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from store.timeutil import iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    position INTEGER NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    bills INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS records (
    org_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (org_id, collection, id)
);
CREATE INDEX IF NOT EXISTS records_by_seq ON records (org_id, collection, seq);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    redirect_uri TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    state TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    created_at TEXT NOT NULL,
    answered INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS codes (
    hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    orgs TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    grant_id TEXT
);
CREATE TABLE IF NOT EXISTS grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    orgs TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_why TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    expires_at TEXT NOT NULL,
    spent_at TEXT
);
CREATE INDEX IF NOT EXISTS tokens_by_grant ON tokens (grant_id);
CREATE TABLE IF NOT EXISTS replies (
    org_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (org_id, key)
);
"""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sandbox_db_path(demo_db: str) -> str:
    """Where the sandbox keeps its data for a demo database: `demo.db` -> `demo.sandbox.db`."""
    if demo_db == ":memory:":
        return demo_db
    path = Path(demo_db)
    return str(path.with_name(f"{path.stem}.sandbox{path.suffix or '.db'}"))


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    currency: str


@dataclass(frozen=True)
class Grant:
    id: str
    client_id: str
    scope: str
    orgs: tuple[str, ...]
    created_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class Page:
    """Records of one collection changed in (since, until], oldest change first."""

    items: list[dict]
    snapshot: int  # the organisation's change number the listing is consistent with
    last_seq: int  # the change number of the last item (the next page starts after it)
    has_more: bool


class LedgerStore:
    def __init__(self, path: str):
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _rows(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _row(self, sql: str, params: tuple = ()) -> sqlite3.Row | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    # -- organisations and records -------------------------------------------------------------

    def is_empty(self) -> bool:
        return self._row("SELECT 1 FROM orgs LIMIT 1") is None

    def add_org(self, org: Org) -> None:
        with self.transaction() as conn:
            position = conn.execute("SELECT COUNT(*) FROM orgs").fetchone()[0]
            conn.execute(
                "INSERT INTO orgs (id, name, currency, position) VALUES (?, ?, ?, ?)",
                (org.id, org.name, org.currency, position),
            )

    def orgs(self) -> list[Org]:
        rows = self._rows("SELECT id, name, currency FROM orgs ORDER BY position")
        return [Org(row["id"], row["name"], row["currency"]) for row in rows]

    def org(self, org_id: str) -> Org | None:
        row = self._row("SELECT id, name, currency FROM orgs WHERE id = ?", (org_id,))
        return Org(row["id"], row["name"], row["currency"]) if row else None

    def put(self, org_id: str, collection: str, record_id: str, data: dict) -> int:
        """Store a record (new or changed) under the organisation's next change number."""
        with self.transaction() as conn:
            conn.execute("UPDATE orgs SET seq = seq + 1 WHERE id = ?", (org_id,))
            seq = conn.execute("SELECT seq FROM orgs WHERE id = ?", (org_id,)).fetchone()[0]
            conn.execute(
                "INSERT INTO records (org_id, collection, id, seq, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (org_id, collection, id) DO UPDATE SET seq = excluded.seq, "
                "data = excluded.data",
                (org_id, collection, record_id, seq, json.dumps(data, sort_keys=True)),
            )
            return seq

    def get(self, org_id: str, collection: str, record_id: str) -> dict | None:
        row = self._row(
            "SELECT data FROM records WHERE org_id = ? AND collection = ? AND id = ?",
            (org_id, collection, record_id),
        )
        return json.loads(row["data"]) if row else None

    def all(self, org_id: str, collection: str) -> list[dict]:
        rows = self._rows(
            "SELECT data FROM records WHERE org_id = ? AND collection = ? ORDER BY seq",
            (org_id, collection),
        )
        return [json.loads(row["data"]) for row in rows]

    def changes(
        self, org_id: str, collection: str, *, since: int, until: int | None, limit: int
    ) -> Page:
        with self._lock:
            snapshot = self._row("SELECT seq FROM orgs WHERE id = ?", (org_id,))["seq"]
            until = snapshot if until is None else min(until, snapshot)
            rows = self._rows(
                "SELECT seq, data FROM records WHERE org_id = ? AND collection = ? "
                "AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                (org_id, collection, since, until, limit + 1),
            )
        page = rows[:limit]
        return Page(
            items=[json.loads(row["data"]) for row in page],
            snapshot=until,
            last_seq=page[-1]["seq"] if page else since,
            has_more=len(rows) > limit,
        )

    def next_bill_number(self, org_id: str) -> int:
        with self.transaction() as conn:
            conn.execute("UPDATE orgs SET bills = bills + 1 WHERE id = ?", (org_id,))
            return conn.execute("SELECT bills FROM orgs WHERE id = ?", (org_id,)).fetchone()[0]

    # -- idempotent answers -------------------------------------------------------------------

    def reply(self, org_id: str, key: str) -> tuple[str, int, dict] | None:
        row = self._row(
            "SELECT fingerprint, status, body FROM replies WHERE org_id = ? AND key = ?",
            (org_id, key),
        )
        return (row["fingerprint"], row["status"], json.loads(row["body"])) if row else None

    def save_reply(self, org_id: str, key: str, fingerprint: str, status: int, body: dict):
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO replies (org_id, key, fingerprint, status, body) "
                "VALUES (?, ?, ?, ?, ?)",
                (org_id, key, fingerprint, status, json.dumps(body)),
            )

    # -- OAuth clients, consents and codes ----------------------------------------------------

    def register_client(self, client_id: str, secret: str, name: str, redirect_uri: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO clients (client_id, secret_hash, name, redirect_uri) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET "
                "secret_hash = excluded.secret_hash, name = excluded.name, "
                "redirect_uri = excluded.redirect_uri",
                (client_id, digest(secret), name, redirect_uri),
            )

    def client(self, client_id: str) -> sqlite3.Row | None:
        return self._row("SELECT * FROM clients WHERE client_id = ?", (client_id,))

    def client_authenticates(self, client_id: str, secret: str) -> bool:
        row = self.client(client_id)
        return row is not None and row["secret_hash"] == digest(secret)

    def create_consent(self, consent_id: str, *, now: datetime, **request: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO consents (id, client_id, redirect_uri, scope, state, code_challenge, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    consent_id,
                    request["client_id"],
                    request["redirect_uri"],
                    request["scope"],
                    request["state"],
                    request["code_challenge"],
                    iso(now),
                ),
            )

    def consent(self, consent_id: str) -> sqlite3.Row | None:
        return self._row("SELECT * FROM consents WHERE id = ?", (consent_id,))

    def answer_consent(self, consent_id: str) -> sqlite3.Row | None:
        """The consent request, once: a second answer to the same page gets None."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM consents WHERE id = ? AND answered = 0", (consent_id,)
            ).fetchone()
            if row is not None:
                conn.execute("UPDATE consents SET answered = 1 WHERE id = ?", (consent_id,))
            return row

    def create_code(self, code: str, *, expires_at: datetime, orgs: list[str], **request: str):
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO codes (hash, client_id, redirect_uri, scope, orgs, code_challenge, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    digest(code),
                    request["client_id"],
                    request["redirect_uri"],
                    request["scope"],
                    json.dumps(orgs),
                    request["code_challenge"],
                    iso(expires_at),
                ),
            )

    def redeem_code(self, code: str, grant_id: str) -> tuple[sqlite3.Row | None, str | None]:
        """(the code, None) the first time; (None, the grant it made) when it is used again."""
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM codes WHERE hash = ?", (digest(code),)).fetchone()
            if row is None:
                return None, None
            if row["grant_id"] is not None:
                return None, row["grant_id"]
            conn.execute("UPDATE codes SET grant_id = ? WHERE hash = ?", (grant_id, digest(code)))
            return row, None

    # -- grants and tokens --------------------------------------------------------------------

    def create_grant(self, grant_id: str, *, client_id: str, scope: str, orgs: list[str], now):
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO grants (id, client_id, scope, orgs, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (grant_id, client_id, scope, json.dumps(orgs), iso(now)),
            )

    def grant(self, grant_id: str) -> Grant | None:
        row = self._row("SELECT * FROM grants WHERE id = ?", (grant_id,))
        return _grant(row) if row else None

    def grants(self) -> list[Grant]:
        return [_grant(row) for row in self._rows("SELECT * FROM grants ORDER BY created_at")]

    def add_token(self, token: str, grant_id: str, kind: str, expires_at: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO tokens (hash, grant_id, kind, expires_at) VALUES (?, ?, ?, ?)",
                (digest(token), grant_id, kind, iso(expires_at)),
            )

    def token(self, token: str, kind: str) -> sqlite3.Row | None:
        return self._row("SELECT * FROM tokens WHERE hash = ? AND kind = ?", (digest(token), kind))

    def spend_refresh_token(self, token: str, now: datetime) -> tuple[str, sqlite3.Row | None]:
        """Mark a refresh token used. ("ok", row) the first time; ("reused", row) if it was
        spent before (the caller revokes the grant); ("unknown", None)."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM tokens WHERE hash = ? AND kind = 'refresh'", (digest(token),)
            ).fetchone()
            if row is None:
                return "unknown", None
            if row["spent_at"] is not None:
                return "reused", row
            conn.execute("UPDATE tokens SET spent_at = ? WHERE hash = ?", (iso(now), row["hash"]))
            return "ok", row

    def revoke_grant(self, grant_id: str, why: str, now: datetime) -> bool:
        with self.transaction() as conn:
            changed = conn.execute(
                "UPDATE grants SET revoked_at = ?, revoked_why = ? "
                "WHERE id = ? AND revoked_at IS NULL",
                (iso(now), why, grant_id),
            ).rowcount
            conn.execute("DELETE FROM tokens WHERE grant_id = ?", (grant_id,))
            return bool(changed)

    def expire_access_tokens(self, now: datetime) -> int:
        with self.transaction() as conn:
            return conn.execute(
                "UPDATE tokens SET expires_at = ? WHERE kind = 'access' AND expires_at > ?",
                (iso(now), iso(now)),
            ).rowcount


def _grant(row: sqlite3.Row) -> Grant:
    return Grant(
        id=row["id"],
        client_id=row["client_id"],
        scope=row["scope"],
        orgs=tuple(json.loads(row["orgs"])),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
