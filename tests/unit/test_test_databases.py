"""The tests' database helpers: a fresh PostgreSQL database per case, the same SQL on both."""

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.fakes.databases import (
    SERVER_URL,
    TestDatabase,
    both_backends,
    database_for,
    engine_url,
    postgres_database,
)


def database_names() -> set[str]:
    engine = sa.create_engine(engine_url(SERVER_URL), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(sa.text("SELECT datname FROM pg_database")))
    finally:
        engine.dispose()


def test_each_postgres_database_is_new_and_dropped_even_with_a_connection_open():
    """postgres_database creates an empty database of its own and drops it afterwards, even
    while a connection to it is still open (as a killed server's would be)."""
    with postgres_database() as url:
        name = sa.make_url(url).database
        assert name in database_names()
        held = sa.create_engine(engine_url(url), poolclass=NullPool).connect()
        tables = held.scalars(sa.text("SELECT tablename FROM pg_tables WHERE schemaname='public'"))
        assert list(tables) == []
    assert name not in database_names()
    with pytest.raises(sa.exc.OperationalError, match="terminating connection"):
        held.execute(sa.text("SELECT 1"))
    held.invalidate()


@both_backends
def test_writes_are_committed_and_placeholders_work(database):
    """rows()/write() commit, so another connection (the server's) sees the change, and `?`
    placeholders mean the same on SQLite and PostgreSQL."""
    database.write("CREATE TABLE t (n integer, label text)")
    database.write("INSERT INTO t VALUES (?, ?)", (7, "seven: 7"))
    other = TestDatabase(database.backend, database.target)
    try:
        assert other.rows("SELECT n, label FROM t WHERE n = ?", (7,)) == [(7, "seven: 7")]
        assert other.value("SELECT count(*) FROM t") == 1
    finally:
        other.dispose()


@both_backends
def test_serve_environment_points_at_the_database(database, serve_env):
    """serve_env carries the one variable that selects the test's database, and database_for
    reads it back."""
    assert database_for(serve_env).target == database.target
    other = {"LEDGERLINK_DB", "LEDGERLINK_DATABASE_URL"} - set(database.env)
    assert not other & set(serve_env)
