"""What running on PostgreSQL, with any number of processes, needs of the schema (issue 16).

- A sync's staged pages live only in a TEMP table of the syncing connection. m004 also made a
  `list_staging` table in the database itself, never written (SQLite looked in the TEMP schema
  first); with it gone, `list_staging` always names the syncing connection's own table.
- slack_sdk's installation and install-state tables, on PostgreSQL. slack_sdk's SQLite stores
  make their own on first use; its SQLAlchemy stores would too, but N processes starting at
  once would race to create them: made here, once, under the migration lock, with slack_sdk's
  own table definitions.
- An index of the list records stored without a sync (suppliers ledgerlink created): every
  supplier lookup asks how many there are and the newest, so a process sees suppliers another
  process created (`bot.items.SupplierDirectory`), at the cost of a few index entries.

Revision ID: 0002_beyond_one_machine
Revises: 0001_baseline
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

revision = "0002_beyond_one_machine"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("list_staging")
    where = sa.text("sync_run_id IS NULL")
    op.create_index(
        "list_records_direct",
        "list_records",
        ["connection_id", "kind", "synced_at"],
        sqlite_where=where,
        postgresql_where=where,
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        slack = sa.MetaData()
        installations = SQLAlchemyInstallationStore
        installations.build_installations_table(
            slack, installations.default_installations_table_name
        )
        installations.build_bots_table(slack, installations.default_bots_table_name)
        states = SQLAlchemyOAuthStateStore
        states.build_oauth_states_table(slack, states.default_table_name)
        slack.create_all(bind)
