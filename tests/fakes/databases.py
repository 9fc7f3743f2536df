"""The databases the tests run ledgerlink on: a SQLite file, or a fresh PostgreSQL database.

`scripts/test` starts a private PostgreSQL server for the run and passes its URL (a superuser)
in LEDGERLINK_TEST_DATABASE_URL. Every PostgreSQL case gets a database of its own, created
for it and dropped after it. Without that variable the PostgreSQL cases fail, saying how to get
one: a backend that was never tested must not look like a pass.

Tests that prove behaviour on both backends ask for the `backend` fixture through
`both_backends` (tests/conftest.py builds `database`, `database_target` and `serve_env` on it);
every other test keeps running on SQLite only.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

URL_VARIABLE = "LEDGERLINK_TEST_DATABASE_URL"
# Read once at import: the autouse `clean_environ` fixture removes every LEDGERLINK_ variable
# before each test runs.
SERVER_URL = os.environ.get(URL_VARIABLE, "").strip() or None
BACKENDS = ("sqlite", "postgresql")

# Put on a test, a class or a module (pytestmark) to run it once per backend.
both_backends = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

MISSING_SERVER = (
    f"{URL_VARIABLE} is not set, so there is no PostgreSQL server to run this case on: run the "
    "suite with `bash scripts/test` (it starts one), or set it to a superuser URL like "
    "postgresql://postgres:secret@127.0.0.1:5432/postgres"
)


def engine_url(target: str) -> sa.URL:
    """The SQLAlchemy URL of a ledgerlink database target (a SQLite path or a libpq URL)."""
    if "://" not in target:
        return sa.URL.create("sqlite", database=target)
    url = make_url(target)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def _qmark_to_named(sql: str, params: tuple) -> tuple[str, dict]:
    """`?` placeholders (as the tests write them for sqlite3) as SQLAlchemy's named ones."""
    names = iter(range(len(params)))
    named = re.sub(r"\?", lambda _: f":p{next(names)}", sql)
    return named, {f"p{i}": value for i, value in enumerate(params)}


@dataclass
class TestDatabase:
    """One test's database: where ledgerlink finds it, and plain reads and writes of it through
    SQLAlchemy (the same SQL on either backend; `?` placeholders)."""

    __test__ = False  # not a test class, whatever its name says

    backend: str
    target: str  # a SQLite path or a postgresql:// URL, as open_store and serve take it
    _engine: sa.Engine | None = field(default=None, repr=False)

    @property
    def env(self) -> dict[str, str]:
        """The variable that points `ledgerlink serve` (or `tick`) at this database."""
        if self.backend == "postgresql":
            return {"LEDGERLINK_DATABASE_URL": self.target}
        return {"LEDGERLINK_DB": self.target}

    @property
    def engine(self) -> sa.Engine:
        # No pool: like a fresh sqlite3 connection per read, nothing stays open between reads
        # (no lock held on the SQLite file, nothing to stop the database being dropped).
        if self._engine is None:
            args = {"timeout": 15} if self.backend == "sqlite" else {"connect_timeout": 15}
            self._engine = sa.create_engine(
                engine_url(self.target), poolclass=NullPool, connect_args=args
            )
        return self._engine

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one statement in its own transaction (committed); the rows it returns, if any."""
        named, values = _qmark_to_named(sql, params)
        with self.engine.begin() as conn:
            result = conn.execute(sa.text(named), values)
            return [tuple(row) for row in result] if result.returns_rows else []

    def value(self, sql: str, params: tuple = ()):
        """The first column of the first row (a count, say)."""
        return self.rows(sql, params)[0][0]

    def write(self, sql: str, params: tuple = ()) -> None:
        self.rows(sql, params)

    def stored_bytes(self) -> bytes:
        """Everything the database holds, to search for a secret that must not be there: a
        SQLite file with its write-ahead log and shared memory, byte for byte (free pages
        included); on PostgreSQL every value of every table, as text."""
        if self.backend == "sqlite":
            path = Path(self.target)
            files = path.parent.glob(path.name + "*")
            return b"".join(f.read_bytes() for f in files if f.suffix != ".key")
        tables = [
            row[0]
            for row in self.rows(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        dump = []
        for table in tables:
            dump.append(table)
            for row in self.rows(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from pg_tables
                dump.extend("" if value is None else str(value) for value in row)
        return "\n".join(dump).encode()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def database_for(env: dict[str, str]) -> TestDatabase:
    """The database a serve/tick environment points at (LEDGERLINK_DATABASE_URL wins)."""
    url = env.get("LEDGERLINK_DATABASE_URL")
    if url:
        return TestDatabase("postgresql", url)
    return TestDatabase("sqlite", env["LEDGERLINK_DB"])


@contextmanager
def postgres_database(server_url: str | None = SERVER_URL) -> Iterator[str]:
    """A new, empty database on the test server (its URL), dropped afterwards even if
    connections to it are still open."""
    if server_url is None:
        pytest.fail(MISSING_SERVER, pytrace=False)
    admin = sa.create_engine(
        engine_url(server_url), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    name = f"test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[TestDatabase]:
    """A fresh database of the backend: a new SQLite file in directory, or a new PostgreSQL
    database on the test server."""
    if backend == "sqlite":
        database = TestDatabase("sqlite", str(directory / "ledgerlink.db"))
        try:
            yield database
        finally:
            database.dispose()
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    with postgres_database() as url:
        database = TestDatabase("postgresql", url)
        try:
            yield database
        finally:
            database.dispose()
