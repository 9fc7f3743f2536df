"""ledgerlink's persistence: every SQL statement lives in this package.

`open_store(path, secret_key=..., clock=...)` opens (creating if needed) the SQLite file, applies
pending migrations and returns a `Store`. The `Store` is one object whose methods are grouped by
what they own (one mixin module each); a PostgreSQL backend would implement the same methods.
"""

from __future__ import annotations

from providers.clock import Clock, SystemClock
from store import migrations
from store.admins import AdminQueries
from store.api_tokens import ApiToken, ApiTokenQueries
from store.audit import AuditQueries
from store.connections import Connection, ConnectionQueries, ConnectionTokenStore
from store.database import Database
from store.items import ItemQueries
from store.leases import LeaseQueries
from store.lists import ListQueries
from store.notices import NoticeQueries
from store.oauth import OAuthQueries
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


def open_store(path: str, *, secret_key: str | None = None, clock: Clock | None = None) -> Store:
    """Open the database at `path`, migrate it, and load the token encryption key."""
    cipher = Cipher(load_cipher(path, secret_key))
    database = Database(path)
    migrations.apply(database.db, cipher)
    return Store(database, cipher, clock or SystemClock())
