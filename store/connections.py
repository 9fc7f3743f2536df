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
from store.sql import assignments, from_row, insert
from store.timeutil import iso, parse

REFRESH_LOCK_SECONDS = 60
REFRESH_WAIT_SECONDS = 90
STATUSES = ("active", "expired", "revoked", "disconnected")


@dataclass(frozen=True)
class Grant:
    """What a login grants a connection, new or renewed: the organisation, its tokens, who
    connected it (and in which channel), and for how many days."""

    tenant_id: str
    tenant_name: str
    tokens: TokenSet
    connected_by: str
    channel_id: str | None
    lifetime_days: int


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
        return from_row(
            cls,
            row,
            connected_at=parse(row["connected_at"]),
            expires_at=parse(row["expires_at"]),
            refresh_expires_at=parse(row["refresh_expires_at"]),
            disconnected_at=parse(row["disconnected_at"]),
        )


class ConnectionQueries:
    def create_connection(self, *, team_id: str, provider: str, grant: Grant) -> Connection:
        sql, params = insert(
            "connections",
            {
                "team_id": team_id,
                "provider": provider,
                "status": "active",
                **self._grant_columns(grant, self.clock.now()),
            },
        )
        with self.database.write() as db:
            connection_id = db.scalar(sql + " RETURNING id", params)
        return self.connection(connection_id)

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
            "disconnected_by = CASE WHEN ? = 1 THEN ? ELSE disconnected_by END, "
            "disconnected_at = CASE WHEN ? = 1 THEN ? ELSE disconnected_at END WHERE id = ? "
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

    def renew_connection(self, connection_id: int, grant: Grant) -> Connection:
        """Reconnect: new tokens, new expiry, active again; the row and its data are kept."""
        columns = self._grant_columns(grant, self.clock.now())
        channel_id = columns.pop("channel_id")
        sets, params = assignments(columns)
        with self.database.write() as db:
            db.execute(
                # Only the column names are built here, from _grant_columns' keys.
                f"UPDATE connections SET {sets}, status = 'active', status_reason = NULL, "  # noqa: S608
                "token_version = token_version + 1, refresh_lock_owner = NULL, "
                "refresh_lock_until = NULL, channel_id = COALESCE(?, channel_id) WHERE id = ?",
                (*params, channel_id, connection_id),
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
        return self._decrypted(row, version=row["token_version"])

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
                sets, params = assignments(
                    {**self._encrypted(fresh), "updated_at": iso(self.clock.now())}
                )
                db.execute(
                    # Only the column names are built here, from _encrypted's keys.
                    f"UPDATE connections SET {sets}, token_version = token_version + 1 "  # noqa: S608
                    "WHERE id = ? AND refresh_lock_owner = ?",
                    (*params, connection_id, owner),
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

    def _encrypted(self, tokens: TokenSet) -> dict[str, str | None]:
        """The token columns of a connection or pending grant, the tokens encrypted."""
        return {
            "access_token": self.cipher.encrypt(tokens.access_token),
            "refresh_token": self.cipher.encrypt(tokens.refresh_token),
            "access_expires_at": iso(tokens.access_expires_at),
            "refresh_expires_at": (
                iso(tokens.refresh_expires_at) if tokens.refresh_expires_at else None
            ),
        }

    def _decrypted(self, row: dict, *, version: int = 0) -> TokenSet:
        """The tokens from a row written with `_encrypted`'s columns."""
        return TokenSet(
            access_token=self.cipher.decrypt(row["access_token"]),
            refresh_token=self.cipher.decrypt(row["refresh_token"]),
            access_expires_at=parse(row["access_expires_at"]),
            refresh_expires_at=parse(row["refresh_expires_at"]),
            version=version,
        )

    def _grant_columns(self, grant: Grant, now: datetime) -> dict[str, str | None]:
        """What a (re)connection writes: the organisation, the tokens, who and until when."""
        return {
            "tenant_id": grant.tenant_id,
            "tenant_name": grant.tenant_name,
            **self._encrypted(grant.tokens),
            "connected_by": grant.connected_by,
            "connected_at": iso(now),
            "expires_at": iso(now + timedelta(days=grant.lifetime_days)),
            "channel_id": grant.channel_id,
            "updated_at": iso(now),
        }


class ConnectionTokenStore:
    """`providers.base.TokenStore` for one stored connection."""

    def __init__(self, store: ConnectionQueries, connection_id: int):
        self._store = store
        self._connection_id = connection_id

    def current(self) -> TokenSet:
        return self._store.connection_tokens(self._connection_id)

    def refresh_with(self, used: TokenSet, refresh: Callable[[TokenSet], TokenSet]) -> TokenSet:
        return self._store.refresh_connection_tokens(self._connection_id, used, refresh)
