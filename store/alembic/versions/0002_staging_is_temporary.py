"""A sync's staged pages live only in a TEMP table of the syncing connection.

m004 also made a `list_staging` table in the database itself, never written (SQLite looked in
the TEMP schema first). On PostgreSQL a TEMP table shadows it the same way, but an unqualified
DROP could then reach the shared one; with it gone, `list_staging` always names the syncing
connection's own TEMP table, on both backends.

Revision ID: 0002_staging_is_temporary
Revises: 0001_baseline
"""

from __future__ import annotations

from alembic import op

revision = "0002_staging_is_temporary"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("list_staging")
