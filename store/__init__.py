"""ledgerlink's persistence: every SQL statement lives in this package.

`open_store(target, secret_key=..., clock=...)` opens the database (an SQLite file, created if
needed, or a `postgresql://` URL), applies pending migrations and returns a `Store`. The `Store`
is one object whose methods are grouped by what they own (one mixin module each); the same
methods and statements run on both backends (`store.database`).
"""

from __future__ import annotations

import sqlalchemy as sa

from providers.clock import Clock, SystemClock
from store import migrations
from store.admins import AdminQueries
from store.api_tokens import ApiToken, ApiTokenQueries
from store.audit import AuditQueries
from store.connections import Connection, ConnectionQueries, ConnectionTokenStore, Grant
from store.database import Database, DatabaseError
from store.items import ItemQueries
from store.leases import LeaseQueries
from store.lists import ListQueries
from store.notices import NoticeQueries
from store.oauth import OAuthQueries, OAuthState
from store.outbox import OutboxQueries
from store.schedule import ScheduleQueries
from store.secrets import Cipher, SecretKeyError, load_cipher
from store.sync_runs import SyncRun, SyncRunQueries
from store.workspaces import BILL_STATUSES, Settings, WorkspaceQueries

__all__ = [
    "BILL_STATUSES",
    "ApiToken",
    "Connection",
    "ConnectionTokenStore",
    "DatabaseError",
    "Grant",
    "OAuthState",
    "SecretKeyError",
    "Settings",
    "Store",
    "SyncRun",
    "open_store",
]


class Store(
    WorkspaceQueries,
    AdminQueries,
    AuditQueries,
    ApiTokenQueries,
    ConnectionQueries,
    OAuthQueries,
    ListQueries,
    SyncRunQueries,
    LeaseQueries,
    NoticeQueries,
    ScheduleQueries,
    ItemQueries,
    OutboxQueries,
):
    def __init__(self, database: Database, cipher: Cipher, clock: Clock):
        self.database = database
        self.cipher = cipher
        self.clock = clock

    def ping(self) -> bool:
        return self.database.row("SELECT 1 AS ok") == {"ok": 1}

    def close(self) -> None:
        self.database.close()


def open_store(target: str, *, secret_key: str | None = None, clock: Clock | None = None) -> Store:
    """Open the database `target` (an SQLite path or a `postgresql://` URL), migrate it, and
    load the token encryption key (on PostgreSQL it must be given: there is no file beside it
    to keep one in)."""
    database = Database(target)
    try:
        if database.backend == "postgresql" and not secret_key:
            raise SecretKeyError(
                "LEDGERLINK_SECRET_KEY is required with LEDGERLINK_DATABASE_URL: every process "
                "on every host must encrypt and decrypt tokens with the same key"
            )
        cipher = Cipher(load_cipher(database.path or "", secret_key))
        try:
            migrations.apply(database, cipher)
        except sa.exc.OperationalError as error:
            raise database.unreachable(error) from None
    except BaseException:
        database.close()
        raise
    return Store(database, cipher, clock or SystemClock())
