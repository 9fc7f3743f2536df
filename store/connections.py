"""Connections to an accounting organisation, with their tokens encrypted at rest.

A workspace has at most one current connection (the newest row that is not disconnected); old
rows are kept as history. Token refreshes are serialised per connection with a lock held in the
row itself (owner + lease time), so two threads or two processes never spend the same refresh
token twice, and a crashed holder's lock lapses on its own.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from providers.base import ProviderUnavailable, TokenSet
from store.timeutil import iso, parse

REFRESH_LOCK_SECONDS = 60
REFRESH_WAIT_SECONDS = 90
STATUSES = ("active", "expired", "revoked", "disconnected")


@dataclass(frozen=True)
class Connection:
    id: int
    team_id: str
    provider: str
    tenant_id: str
    tenant_name: str
    status: str
    status_reason: str | None
    connected_by: str
    connected_at: datetime
    expires_at: datetime
    channel_id: str | None
    refresh_expires_at: datetime | None
    disconnected_by: str | None
    disconnected_at: datetime | None

    @classmethod
    def from_row(cls, row: dict) -> Connection:
        return cls(
            id=row["id"],
            team_id=row["team_id"],
            provider=row["provider"],
            tenant_id=row["tenant_id"],
            tenant_name=row["tenant_name"],
            status=row["status"],
            status_reason=row["status_reason"],
            connected_by=row["connected_by"],
            connected_at=parse(row["connected_at"]),
            expires_at=parse(row["expires_at"]),
            channel_id=row["channel_id"],
            refresh_expires_at=parse(row["refresh_expires_at"]),
            disconnected_by=row["disconnected_by"],
            disconnected_at=parse(row["disconnected_at"]),
        )


class ConnectionQueries:
    def create_connection(
        self,
        *,
        team_id: str,
        provider: str,
        tenant_id: str,
        tenant_name: str,
        tokens: TokenSet,
        connected_by: str,
        channel_id: str | None,
        lifetime_days: int,
    ) -> Connection:
        now = self.clock.now()
        with self.database.write() as db:
            cursor = db.execute(
                "INSERT INTO connections (team_id, provider, tenant_id, tenant_name, status, "
                "access_token, refresh_token, access_expires_at, refresh_expires_at, "
                "connected_by, connected_at, expires_at, channel_id, updated_at) "
                "VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    team_id,
                    provider,
                    tenant_id,
                    tenant_name,
                    *self._encrypted(tokens),
                    connected_by,
                    iso(now),
                    iso(now + timedelta(days=lifetime_days)),
                    channel_id,
                    iso(now),
                ),
            )
        return self.connection(cursor.lastrowid)

    def connection(self, connection_id: int) -> Connection | None:
        row = self.database.row("SELECT * FROM connections WHERE id = ?", (connection_id,))
        return Connection.from_row(row) if row else None

    def current_connection(self, team_id: str) -> Connection | None:
        row = self.database.row(
            "SELECT * FROM connections WHERE team_id = ? AND status != 'disconnected' "
            "ORDER BY id DESC LIMIT 1",
            (team_id,),
        )
        return Connection.from_row(row) if row else None

    def connection_history(self, team_id: str) -> list[Connection]:
        rows = self.database.rows(
            "SELECT * FROM connections WHERE team_id = ? ORDER BY id", (team_id,)
        )
        return [Connection.from_row(row) for row in rows]

    def set_connection_status(
        self,
        connection_id: int,
        status: str,
        *,
        reason: str | None = None,
        actor: str | None = None,
        from_statuses: tuple[str, ...] = STATUSES,
    ) -> bool:
        """Set the status, if the connection is in one of `from_statuses` (a compare-and-set:
        of two callers disconnecting at once, one wins); True if it changed."""
        if status not in STATUSES:
            raise ValueError(f"unknown connection status {status!r}")
        now = iso(self.clock.now())
        disconnected = status == "disconnected"
        cursor = self.database.execute(
            # Only placeholders are built here: statuses are bound as parameters.
            "UPDATE connections SET status = ?, status_reason = ?, updated_at = ?, "  # noqa: S608
            "disconnected_by = CASE WHEN ? THEN ? ELSE disconnected_by END, "
            "disconnected_at = CASE WHEN ? THEN ? ELSE disconnected_at END WHERE id = ? "
            f"AND status IN ({', '.join('?' for _ in from_statuses)})",
            (
                status,
                reason,
                now,
                disconnected,
                actor,
                disconnected,
                now,
                connection_id,
                *from_statuses,
            ),
        )
        return cursor.rowcount == 1

    def renew_connection(
        self,
        connection_id: int,
        *,
        tenant_id: str,
        tenant_name: str,
        tokens: TokenSet,
        connected_by: str,
        channel_id: str | None,
        lifetime_days: int,
    ) -> Connection:
        """Reconnect: new tokens, new expiry, active again; the row and its data are kept."""
        now = self.clock.now()
        with self.database.write() as db:
            db.execute(
                "UPDATE connections SET tenant_id = ?, tenant_name = ?, status = 'active', "
                "status_reason = NULL, access_token = ?, refresh_token = ?, "
                "access_expires_at = ?, refresh_expires_at = ?, "
                "token_version = token_version + 1, refresh_lock_owner = NULL, "
                "refresh_lock_until = NULL, connected_by = ?, connected_at = ?, expires_at = ?, "
                "channel_id = COALESCE(?, channel_id), updated_at = ? WHERE id = ?",
                (
                    tenant_id,
                    tenant_name,
                    *self._encrypted(tokens),
                    connected_by,
                    iso(now),
                    iso(now + timedelta(days=lifetime_days)),
                    channel_id,
                    iso(now),
                    connection_id,
                ),
            )
        return self.connection(connection_id)

    # -- tokens ---------------------------------------------------------------------------

    def connection_tokens(self, connection_id: int) -> TokenSet:
        row = self.database.row(
            "SELECT access_token, refresh_token, access_expires_at, refresh_expires_at, "
            "token_version FROM connections WHERE id = ?",
            (connection_id,),
        )
        if row is None or row["access_token"] is None:
            raise LookupError(f"connection {connection_id} has no tokens")
        return TokenSet(
            access_token=self.cipher.decrypt(row["access_token"]),
            refresh_token=self.cipher.decrypt(row["refresh_token"]),
            access_expires_at=parse(row["access_expires_at"]),
            refresh_expires_at=parse(row["refresh_expires_at"]),
            version=row["token_version"],
        )

    def refresh_connection_tokens(
        self,
        connection_id: int,
        used: TokenSet,
        refresh: Callable[[TokenSet], TokenSet],
        *,
        wait_seconds: float = REFRESH_WAIT_SECONDS,
    ) -> TokenSet:
        """See `providers.base.TokenStore.refresh_with`."""
        owner = secrets.token_hex(8)
        deadline = time.monotonic() + wait_seconds
        delay = 0.02
        while True:
            current = self.connection_tokens(connection_id)
            if current.version != used.version:
                return current
            if self._take_refresh_lock(connection_id, owner):
                break
            if time.monotonic() > deadline:
                raise ProviderUnavailable("another worker is still refreshing this connection")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        try:
            current = self.connection_tokens(connection_id)
            if current.version != used.version:
                return current
            fresh = refresh(current)
            with self.database.write() as db:
                db.execute(
                    "UPDATE connections SET access_token = ?, refresh_token = ?, "
                    "access_expires_at = ?, refresh_expires_at = ?, "
                    "token_version = token_version + 1, updated_at = ? "
                    "WHERE id = ? AND refresh_lock_owner = ?",
                    (*self._encrypted(fresh), iso(self.clock.now()), connection_id, owner),
                )
            return self.connection_tokens(connection_id)
        finally:
            self.database.execute(
                "UPDATE connections SET refresh_lock_owner = NULL, refresh_lock_until = NULL "
                "WHERE id = ? AND refresh_lock_owner = ?",
                (connection_id, owner),
            )

    def _take_refresh_lock(self, connection_id: int, owner: str) -> bool:
        # Lock leases use the wall clock, not the injected one: they guard real concurrency.
        now = datetime.now().astimezone()
        cursor = self.database.execute(
            "UPDATE connections SET refresh_lock_owner = ?, refresh_lock_until = ? "
            "WHERE id = ? AND (refresh_lock_owner IS NULL OR refresh_lock_until < ?)",
            (owner, iso(now + timedelta(seconds=REFRESH_LOCK_SECONDS)), connection_id, iso(now)),
        )
        return cursor.rowcount == 1

    def _encrypted(self, tokens: TokenSet) -> tuple:
        return (
            self.cipher.encrypt(tokens.access_token),
            self.cipher.encrypt(tokens.refresh_token),
            iso(tokens.access_expires_at),
            iso(tokens.refresh_expires_at) if tokens.refresh_expires_at else None,
        )


class ConnectionTokenStore:
    """`providers.base.TokenStore` for one stored connection."""

    def __init__(self, store: ConnectionQueries, connection_id: int):
        self._store = store
        self._connection_id = connection_id

    def current(self) -> TokenSet:
        return self._store.connection_tokens(self._connection_id)

    def refresh_with(self, used: TokenSet, refresh: Callable[[TokenSet], TokenSet]) -> TokenSet:
        return self._store.refresh_connection_tokens(self._connection_id, used, refresh)
