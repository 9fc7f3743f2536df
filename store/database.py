"""SQLite connections: one per thread, WAL mode, a busy timeout, and immediate write transactions.

sqlite3 connections must not be shared between threads that use them at once, and the server,
Bolt's lazy listeners and the scheduler all run in threads; so each thread gets its own
connection to the same file. WAL lets readers proceed while one writer writes; the busy timeout
makes a writer wait for another (in this process or another one) instead of failing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_SECONDS = 15.0


class Database:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        conn = self.conn
        conn.execute("PRAGMA journal_mode=WAL")

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise sqlite3.ProgrammingError("the store is closed")
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            db = sqlite_utils.Database(conn)
            self._local.db = db
            with self._lock:
                self._connections.append(conn)
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A transaction that takes the write lock up front (BEGIN IMMEDIATE).

        A deferred transaction that reads and then writes can fail with "database is locked"
        without waiting when another connection wrote in between; taking the lock first makes
        read-modify-write sequences safe across threads and processes.
        """
        db = self.db
        if db.conn.in_transaction:
            with db.atomic():
                yield db
            return
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        else:
            db.conn.execute("COMMIT")

    def close_thread(self) -> None:
        """Close the calling thread's connection, if it opened one: for short-lived helper
        threads (a sync's read-ahead), so their connections do not pile up."""
        db = getattr(self._local, "db", None)
        if db is None:
            return
        self._local.db = None
        with self._lock:
            if db.conn in self._connections:
                self._connections.remove(db.conn)
        db.conn.close()

    def rows(self, sql: str, params: tuple | dict = ()) -> list[dict]:
        return list(self.db.query(sql, params))

    def row(self, sql: str, params: tuple | dict = ()) -> dict | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, params)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
