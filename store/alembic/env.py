"""Alembic's environment for ledgerlink: migrations run on the connection `store.migrations`
hands over (in its transaction), never from an alembic.ini of their own."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
