"""Database connections for both backends: an SQLite file (the default, one host) or PostgreSQL
(`LEDGERLINK_DATABASE_URL`, any number of processes on any number of hosts).

SQLAlchemy makes the engine (URL, driver, dialect) for each backend; the store's statements are
written once, in the SQL that SQLite and PostgreSQL share (`ON CONFLICT`, `RETURNING`,
`IS DISTINCT FROM`, `COUNT(*) FILTER`), with `?` or `:name` placeholders. `Database` hands each
statement to the driver in the driver's own placeholder style (`paramstyle`), the one thing the
two drivers spell differently; nothing else about a query depends on the backend.

Concurrency is the same on both:
- each thread has its own connection (the server, Bolt's listeners, the scheduler and a sync's
  read-ahead all run in threads; a sync stages its pages in a TEMP table of its own connection);
- outside a `write()` block every statement commits on its own;
- `write()` is a transaction that holds the database's single write lock from its first
  statement: SQLite's `BEGIN IMMEDIATE`; on PostgreSQL a transaction-level advisory lock taken
  right after `BEGIN`. Read-modify-write sequences are therefore safe across threads, processes
  and hosts alike, and a writer waits for another instead of failing. Every single write
  statement outside `write()` takes the same lock on PostgreSQL, as it does on SQLite.
Work that must run once (syncs, reminders, messages, publishing) is claimed with a lease in a row
(`store.leases`, the outbox's `lease_until`), so a crashed holder's work lapses to another
process.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

BUSY_TIMEOUT_SECONDS = 15.0
# The key of PostgreSQL's advisory lock that stands for SQLite's write lock (any constant
# bigint; "ledgerlink" in ASCII, truncated to 8 bytes).
WRITE_LOCK_KEY = int.from_bytes(b"ledgerli", "big") >> 1
# Statements that change data: on PostgreSQL they take the write lock even outside `write()`.
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class DatabaseError(RuntimeError):
    """The database cannot be used as configured (a bad URL, an unsupported driver)."""


def database_url(target: str | Path) -> sa.URL:
    """The SQLAlchemy URL for a SQLite path or a `postgresql://` URL (driver: psycopg 3)."""
    text = str(target)
    if "://" not in text:
        return sa.URL.create("sqlite", database=text)
    try:
        url = sa.make_url(text)
    except sa.exc.ArgumentError:
        raise DatabaseError("LEDGERLINK_DATABASE_URL is not a database URL") from None
    if url.get_backend_name() != "postgresql":
        raise DatabaseError(
            f"LEDGERLINK_DATABASE_URL must be a postgresql:// URL, not {url.drivername}://"
        )
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername != "postgresql+psycopg":
        raise DatabaseError(f"ledgerlink talks to PostgreSQL with psycopg, not {url.drivername}")
    return url


def make_engine(target: str | Path, **options: Any) -> sa.Engine:
    """An ordinary SQLAlchemy engine for the database (for Alembic and slack_sdk's stores)."""
    url = database_url(target)
    if url.get_backend_name() == "sqlite":
        options.setdefault("connect_args", {"timeout": BUSY_TIMEOUT_SECONDS})
    return sa.create_engine(url, **options)


@lru_cache(maxsize=1024)
def _to_pyformat(sql: str) -> str:
    """`sql` with `?` and `:name` placeholders spelt as psycopg's `%s` and `%(name)s` (a `%`
    of the statement itself doubled); quoted text and `::` casts are left as they are."""

    def spell(match: re.Match) -> str:
        token = match.group(0)
        if token[0] in "'\"":
            return token.replace("%", "%%")
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if token == "::":
            return token
        return f"%({match.group(1)})s"

    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|\?|%|:([A-Za-z_]\w*)", spell, sql)


def _bound(params: Sequence | Mapping) -> Sequence | Mapping:
    # The schema stores flags as integers (0/1) on both backends; PostgreSQL would refuse a
    # boolean for an integer column, SQLite stores one as 0/1 anyway.
    if isinstance(params, Mapping):
        return {k: int(v) if isinstance(v, bool) else v for k, v in params.items()}
    return tuple(int(v) if isinstance(v, bool) else v for v in params)


class Database:
    def __init__(self, target: str | Path):
        self.url = database_url(target)
        self.backend = self.url.get_backend_name()  # "sqlite" or "postgresql"
        self.path = self.url.database if self.backend == "sqlite" else None
        # The store's own connections are per thread (see the module's docstring); this pooled
        # engine serves slack_sdk's installation and state stores on PostgreSQL.
        self.engine = sa.create_engine(self.url, pool_pre_ping=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self._closed = False
        if self.backend == "sqlite":
            self.conn.execute("PRAGMA journal_mode=WAL")

    @property
    def postgresql(self) -> bool:
        return self.backend == "postgresql"

    def describe(self) -> str:
        """Where the data is, for logs and errors (never the password)."""
        if self.postgresql:
            url = self.url
            return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}/{url.database}"
        return f"SQLite file {self.path}"

    def unreachable(self, error: Exception) -> DatabaseError:
        """A DatabaseError saying the database cannot be reached, and the driver's reason."""
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        detail = reason[0] if reason else type(error).__name__
        return DatabaseError(f"cannot use the database ({self.describe()}): {detail}")

    # -- connections ------------------------------------------------------------------------

    @property
    def conn(self) -> Any:
        """The calling thread's DBAPI connection (sqlite3 or psycopg), opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise DatabaseError("the store is closed")
            conn = self._open()
            self._local.conn = conn
            self._local.depth = 0
            with self._lock:
                self._connections.append(conn)
        return conn

    def _open(self) -> Any:
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
            conn.isolation_level = None  # statements commit on their own; write() says BEGIN
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn
        # The driver's own connection, with the arguments SQLAlchemy's dialect derives from the
        # URL; it lives as long as its thread (or until close_thread/close).
        args, kwargs = self.engine.dialect.create_connect_args(self.url)
        driver = self.engine.dialect.loaded_dbapi
        try:
            conn = driver.connect(*args, **kwargs)
        except driver.OperationalError as error:
            raise self.unreachable(error) from None
        conn.autocommit = True
        # Wait for the write lock as long as SQLite's busy timeout, then fail the same way.
        conn.execute(f"SET lock_timeout = '{int(BUSY_TIMEOUT_SECONDS * 1000)}ms'")
        return conn

    def in_transaction(self) -> bool:
        return getattr(self._local, "depth", 0) > 0

    @contextmanager
    def write(self) -> Iterator[Database]:
        """A transaction that holds the write lock from its start (see the module's docstring);
        nested, it is a savepoint of the enclosing one."""
        conn = self.conn
        depth = self._local.depth
        if depth:
            name = f"ledgerlink_{depth}"
            self._run(conn, f"SAVEPOINT {name}")
            self._local.depth += 1
            try:
                yield self
            except BaseException:
                self._run(conn, f"ROLLBACK TO SAVEPOINT {name}")
                self._run(conn, f"RELEASE SAVEPOINT {name}")
                raise
            else:
                self._run(conn, f"RELEASE SAVEPOINT {name}")
            finally:
                self._local.depth -= 1
            return
        if self.postgresql:
            try:
                # One round trip: without parameters psycopg sends both as one simple query.
                self._run(conn, f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
            except BaseException:
                with suppress(Exception):  # keep the first error, not this one's
                    self._run(conn, "ROLLBACK")
                raise
        else:
            self._run(conn, "BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield self
        except BaseException:
            self._local.depth = 0
            self._run(conn, "ROLLBACK")
            raise
        else:
            self._local.depth = 0
            self._run(conn, "COMMIT")

    @staticmethod
    def _run(conn: Any, sql: str) -> None:
        conn.execute(sql)

    def close_thread(self) -> None:
        """Close the calling thread's connection, if it opened one: for short-lived helper
        threads (a sync's read-ahead), so their connections do not pile up."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
        self.engine.dispose()

    # -- statements ---------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence | Mapping = ()) -> Any:
        """Run one statement; the DBAPI cursor (rowcount, fetchone, fetchall)."""
        if self.postgresql and not self.in_transaction() and _WRITES.match(sql):
            with self.write():
                return self._execute(sql, params)
        return self._execute(sql, params)

    def _execute(self, sql: str, params: Sequence | Mapping) -> Any:
        conn = self.conn
        if self.postgresql:
            cursor = conn.cursor()
            cursor.execute(_to_pyformat(sql), _bound(params) or None)
            return cursor
        return conn.execute(sql, _bound(params))

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> None:
        conn = self.conn
        rows = [_bound(row) for row in rows]
        if self.postgresql:
            with conn.cursor() as cursor:
                cursor.executemany(_to_pyformat(sql), rows)
        else:
            conn.executemany(sql, rows)

    def rows(self, sql: str, params: Sequence | Mapping = ()) -> list[dict]:
        cursor = self.execute(sql, params)
        if cursor.description is None:
            return []
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def row(self, sql: str, params: Sequence | Mapping = ()) -> dict | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence | Mapping = ()) -> Any:
        """The first column of the first row (e.g. an id from `RETURNING id`), or None."""
        found = self.execute(sql, params).fetchone()
        return found[0] if found else None
