"""slack_sdk's installation and install-state tables, on PostgreSQL.

On SQLite, slack_sdk's SQLite stores create their own tables on first use. On PostgreSQL its
SQLAlchemy stores would too (`create_tables()`), but N processes starting at once would race
to create them; created here, they are made once, under the migration lock, with slack_sdk's
own table definitions.

Revision ID: 0003_slack_tables
Revises: 0002_staging_is_temporary
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

revision = "0003_slack_tables"
down_revision = "0002_staging_is_temporary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    metadata = sa.MetaData()
    SQLAlchemyInstallationStore.build_installations_table(
        metadata, SQLAlchemyInstallationStore.default_installations_table_name
    )
    SQLAlchemyInstallationStore.build_bots_table(
        metadata, SQLAlchemyInstallationStore.default_bots_table_name
    )
    SQLAlchemyOAuthStateStore.build_oauth_states_table(
        metadata, SQLAlchemyOAuthStateStore.default_table_name
    )
    metadata.create_all(bind)
