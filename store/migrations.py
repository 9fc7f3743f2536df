"""Schema migrations for both backends, with Alembic (revisions in store/alembic/versions).

`apply` brings any database to the newest revision, in one transaction that holds the
database's write lock (SQLite's `BEGIN IMMEDIATE`, a PostgreSQL advisory lock), so processes
starting together migrate once. An SQLite file from before Alembic (it has sqlite-utils'
`_sqlite_migrations` table) is first brought to m009 by `store.legacy_migrations`, which
encrypts Slack tokens stored in clear (m008), and is then stamped as the baseline revision.

A new revision: `alembic -x ... revision` is not needed; copy the newest file in
store/alembic/versions, give it the next number and `down_revision`, and write its `upgrade()`
with `alembic.op` (portable DDL; a dialect branch there is the one place one belongs).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import sqlite_utils
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from store import legacy_migrations
from store.database import Database
from store.secrets import Cipher

BASELINE = "0001_baseline"
# The advisory lock PostgreSQL processes take while migrating ("ledgerlink-migrate").
MIGRATE_LOCK_KEY = int.from_bytes(b"llmigrat", "big") >> 1
SCRIPTS = Path(__file__).parent / "alembic"


def apply(database: Database, cipher: Cipher) -> None:
    """Bring the database to the newest schema; `cipher` encrypts what migrations store."""
    if database.backend == "sqlite":
        _legacy(database.path, cipher)
    engine = sa.create_engine(database.url, poolclass=NullPool)
    if database.backend == "sqlite":
        # pysqlite would BEGIN lazily (DEFERRED); take the write lock up front instead.
        sa.event.listen(engine, "connect", _no_driver_transactions)
        sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    try:
        with engine.begin() as conn:
            if database.backend == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATE_LOCK_KEY})")
            config = Config()
            config.set_main_option("script_location", str(SCRIPTS))
            config.attributes["connection"] = conn
            tables = set(sa.inspect(conn).get_table_names())
            if "_sqlite_migrations" in tables and "alembic_version" not in tables:
                command.stamp(config, BASELINE)
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision in store/alembic/versions."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(database: Database) -> str | None:
    row = database.row("SELECT version_num FROM alembic_version")
    return row["version_num"] if row else None


def _no_driver_transactions(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None


def _legacy(path: str, cipher: Cipher) -> None:
    """Finish the SQLite-only migrations of a file made before Alembic; a new file has none."""
    db = sqlite_utils.Database(path)
    try:
        if db["_sqlite_migrations"].exists():
            legacy_migrations.apply(db, cipher)
    finally:
        db.close()
