"""An index of the list records stored without a sync (suppliers ledgerlink created).

Every supplier lookup asks how many there are and when the newest was stored, so a process
sees suppliers another process created (`bot.items.SupplierDirectory`); with this partial
index that costs a few index entries, not a scan of the connection's whole list.

Revision ID: 0004_direct_records_index
Revises: 0003_slack_tables
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_direct_records_index"
down_revision = "0003_slack_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    where = sa.text("sync_run_id IS NULL")
    op.create_index(
        "list_records_direct",
        "list_records",
        ["connection_id", "kind", "synced_at"],
        sqlite_where=where,
        postgresql_where=where,
    )
