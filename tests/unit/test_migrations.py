"""Schema migrations: Alembic's baseline equals what the SQLite-only migrations built, so a file
made by an older ledgerlink and a new database end up with the same schema."""

from __future__ import annotations

import re

import sqlalchemy as sa
import sqlite_utils
from cryptography.fernet import Fernet

from store import legacy_migrations, migrations, open_store
from store.secrets import Cipher, load_cipher


def schema(path) -> dict:
    """Every table's columns (type, nullability, default), keys, indexes and checks."""
    engine = sa.create_engine(f"sqlite:///{path}")
    inspector = sa.inspect(engine)
    found = {}
    for table in inspector.get_table_names():
        primary_key = inspector.get_pk_constraint(table)["constrained_columns"]
        found[table] = {
            # (A key column is never NULL, whether or not it was declared NOT NULL.)
            "columns": [
                (
                    c["name"],
                    str(c["type"]),
                    c["nullable"] and c["name"] not in primary_key,
                    c["default"],
                )
                for c in inspector.get_columns(table)
            ],
            "primary_key": primary_key,
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "checks": sorted(
                re.sub(r"\s+", " ", c["sqltext"]).strip()
                for c in inspector.get_check_constraints(table)
            ),
        }
    engine.dispose()
    return found


def test_an_old_sqlite_file_is_stamped_and_ends_with_the_new_schema(tmp_path):
    """A file migrated to m009 by the old runner (with a workspace in it) is stamped as the
    baseline, brought to head, keeps its data, and has exactly a new database's schema."""
    key = Fernet.generate_key().decode()
    old = tmp_path / "old.db"
    db = sqlite_utils.Database(str(old))
    legacy_migrations.apply(db, Cipher(load_cipher(old, key)))
    db.execute(
        "INSERT INTO workspaces (team_id, team_name, installed_at) "
        "VALUES ('T1', 'Acme', '2026-01-01T00:00:00+00:00')"
    )
    db.conn.commit()
    db.close()

    upgraded = open_store(str(old), secret_key=key)
    assert migrations.current_revision(upgraded.database) == migrations.head_revision()
    assert upgraded.workspace("T1")["team_name"] == "Acme"
    upgraded.close()
    fresh = open_store(str(tmp_path / "new.db"), secret_key=key)
    fresh.close()

    old_schema, new_schema = schema(old), schema(tmp_path / "new.db")
    old_schema.pop("_sqlite_migrations")
    assert old_schema == new_schema
    assert "list_staging" not in new_schema  # revision 0002: staging is TEMP only


def test_the_baseline_leaves_no_table_of_the_old_runner_behind(tmp_path):
    """A new database is built by Alembic alone: no sqlite-utils migration table appears."""
    store = open_store(str(tmp_path / "l.db"), secret_key=Fernet.generate_key().decode())
    tables = {row["name"] for row in store.database.rows("SELECT name FROM sqlite_master")}
    store.close()
    assert "alembic_version" in tables and "_sqlite_migrations" not in tables
