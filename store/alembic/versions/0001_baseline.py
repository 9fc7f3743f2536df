"""Baseline: the schema as the SQLite-only migrations m001-m009 left it, for both backends.

A new database (SQLite or PostgreSQL) starts here. An SQLite file made before Alembic took over
is brought to m009 by `store.legacy_migrations` and then stamped with this revision, so both
paths end at the same schema (tests/unit/test_migrations.py compares them).

Revision ID: 0001_baseline
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

TEXT, INT = sa.Text, sa.Integer


def _id() -> sa.Column:
    # SQLite: INTEGER PRIMARY KEY (the rowid); PostgreSQL: SERIAL.
    return sa.Column("id", INT, primary_key=True, autoincrement=True)


def text(name: str, *, null: bool = True, default: str | None = None) -> sa.Column:
    return sa.Column(
        name,
        TEXT,
        nullable=null,
        server_default=sa.text(f"'{default}'") if default is not None else None,
    )


def integer(name: str, *, null: bool = True, default: int | None = None) -> sa.Column:
    # Never an auto-numbered key: only `_id()` is.
    return sa.Column(
        name,
        INT,
        nullable=null,
        autoincrement=False,
        server_default=sa.text(str(default)) if default is not None else None,
    )


def check_in(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})")


def upgrade() -> None:
    _foundation()
    _connections()
    _sync()
    _items()
    _outbox()


def _foundation() -> None:
    op.create_table(
        "workspaces",
        text("team_id", null=False),
        text("team_name"),
        text("enterprise_id"),
        text("installed_at", null=False),
        text("uninstalled_at"),
        integer("warn_new_supplier", null=False, default=1),
        text("notification_channel"),
        text("bill_status", null=False, default="DRAFT"),
        text("default_account_code"),
        sa.PrimaryKeyConstraint("team_id"),
    )
    op.create_table(
        "admins",
        text("team_id", null=False),
        text("user_id", null=False),
        text("added_by", null=False),
        text("added_at", null=False),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    op.create_table(
        "audit_log",
        _id(),
        text("team_id", null=False),
        text("actor", null=False),
        text("action", null=False),
        text("detail", null=False, default="{}"),
        text("at", null=False),
    )
    op.create_index("audit_log_team", "audit_log", ["team_id", "id"])
    op.create_table(
        "api_tokens",
        _id(),
        text("team_id", null=False),
        text("name", null=False),
        text("token_hash", null=False),
        text("hint", null=False),
        text("created_at", null=False),
        text("revoked_at"),
        text("last_used_at"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("api_tokens_team", "api_tokens", ["team_id"])


def _connections() -> None:
    op.create_table(
        "connections",
        _id(),
        text("team_id", null=False),
        text("provider", null=False),
        text("tenant_id", null=False),
        text("tenant_name", null=False),
        text("status", null=False),
        text("status_reason"),
        text("access_token"),
        text("refresh_token"),
        text("access_expires_at"),
        text("refresh_expires_at"),
        integer("token_version", null=False, default=0),
        text("refresh_lock_owner"),
        text("refresh_lock_until"),
        text("connected_by", null=False),
        text("connected_at", null=False),
        text("expires_at", null=False),
        text("channel_id"),
        text("disconnected_by"),
        text("disconnected_at"),
        text("updated_at", null=False),
        check_in("status", ("active", "expired", "revoked", "disconnected")),
    )
    op.create_index("connections_team", "connections", ["team_id", "id"])
    op.create_table(
        "provider_oauth_states",
        text("state_hash", null=False),
        text("team_id", null=False),
        text("user_id", null=False),
        text("channel_id"),
        text("provider", null=False),
        text("purpose", null=False),
        text("code_verifier"),
        text("created_at", null=False),
        text("expires_at", null=False),
        text("used_at"),
        text("response_url"),
        integer("connection_id"),
        sa.PrimaryKeyConstraint("state_hash"),
    )
    op.create_table(
        "pending_grants",
        text("id", null=False),
        text("team_id", null=False),
        text("user_id", null=False),
        text("channel_id"),
        text("response_url"),
        text("provider", null=False),
        text("purpose", null=False),
        integer("connection_id"),
        text("access_token", null=False),
        text("refresh_token", null=False),
        text("access_expires_at", null=False),
        text("refresh_expires_at"),
        text("tenants", null=False),
        text("chosen_tenant_id"),
        text("created_at", null=False),
        text("expires_at", null=False),
        text("used_at"),
        sa.PrimaryKeyConstraint("id"),
    )


def _sync() -> None:
    op.create_table(
        "list_records",
        integer("connection_id", null=False),
        text("kind", null=False),
        text("remote_id", null=False),
        text("name", null=False),
        text("code"),
        integer("active", null=False),
        text("updated_at"),
        text("raw", null=False),
        text("synced_at", null=False),
        integer("sync_run_id"),
        sa.PrimaryKeyConstraint("connection_id", "kind", "remote_id"),
    )
    op.create_index(
        "list_records_active", "list_records", ["connection_id", "kind", "active", "name"]
    )
    op.create_table(
        "list_cursors",
        integer("connection_id", null=False),
        text("kind", null=False),
        text("cursor"),
        text("synced_at", null=False),
        text("full_at"),
        sa.PrimaryKeyConstraint("connection_id", "kind"),
    )
    op.create_table(
        "list_staging",
        integer("run_id", null=False),
        text("kind", null=False),
        text("remote_id", null=False),
        text("name", null=False),
        text("code"),
        integer("active", null=False),
        text("updated_at"),
        text("raw", null=False),
        sa.PrimaryKeyConstraint("run_id", "kind", "remote_id"),
    )
    op.create_table(
        "sync_runs",
        _id(),
        integer("connection_id", null=False),
        text("team_id", null=False),
        integer("full", null=False),
        text("trigger", null=False),
        text("requested_by"),
        text("started_at", null=False),
        text("finished_at"),
        text("result", null=False),
        text("counts", null=False, default="{}"),
        text("error"),
        text("retry_at"),
        check_in("result", ("running", "ok", "failed", "deferred", "expired")),
    )
    op.create_index("sync_runs_connection", "sync_runs", ["connection_id", "id"])
    op.create_table(
        "leases",
        text("name", null=False),
        text("owner", null=False),
        text("until", null=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "notices",
        integer("connection_id", null=False),
        text("kind", null=False),
        text("key", null=False),
        text("state", null=False),
        integer("attempts", null=False, default=1),
        text("retry_at"),
        text("created_at", null=False),
        text("sent_at"),
        sa.PrimaryKeyConstraint("connection_id", "kind", "key"),
        check_in("state", ("sending", "sent", "failed")),
    )
    op.create_table(
        "token_refreshes",
        integer("connection_id", null=False),
        text("refreshed_at", null=False),
        sa.PrimaryKeyConstraint("connection_id"),
    )
    # When a connection's tokens change (refresh or reconnect), every code path included.
    upsert = (
        "INSERT INTO token_refreshes (connection_id, refreshed_at) VALUES (NEW.id, "
        "NEW.updated_at) ON CONFLICT (connection_id) DO UPDATE SET "
        "refreshed_at = excluded.refreshed_at"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION connections_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {upsert}; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER connections_tokens_changed AFTER UPDATE OF token_version "
            "ON connections FOR EACH ROW WHEN (NEW.token_version != OLD.token_version) "
            "EXECUTE FUNCTION connections_tokens_changed()"
        )
    else:
        op.execute(
            "CREATE TRIGGER connections_tokens_changed AFTER UPDATE OF token_version "
            "ON connections WHEN NEW.token_version != OLD.token_version "
            f"BEGIN {upsert}; END"
        )


def _items() -> None:
    statuses = (
        "received",
        "needs_supplier",
        "ready",
        "publishing",
        "published",
        "failed",
        "held",
        "discarded",
    )
    op.create_table(
        "items",
        _id(),
        text("team_id", null=False),
        text("external_id"),
        text("source", null=False),
        text("submitted_by"),
        text("channel_id"),
        text("thread_ts"),
        text("supplier_name", null=False),
        text("supplier_key", null=False),
        text("date", null=False),
        text("due_date"),
        text("total", null=False),
        text("currency"),
        text("tax"),
        text("reference"),
        text("description"),
        text("category"),
        text("status", null=False),
        text("hold_reason"),
        integer("duplicate_of"),
        integer("connection_id"),
        text("supplier_id"),
        text("supplier_display"),
        text("resolution"),
        text("resolved_by"),
        text("idempotency_key"),
        text("bill_id"),
        text("bill_url"),
        integer("attempts", null=False, default=0),
        text("next_attempt_at"),
        text("last_error"),
        text("prompt_channel"),
        text("prompt_ts"),
        text("prompt_reminded_at"),
        text("created_at", null=False),
        text("updated_at", null=False),
        text("category_account_id"),
        check_in("status", statuses),
    )
    op.create_index(
        "items_external",
        "items",
        ["team_id", "external_id"],
        unique=True,
        sqlite_where=sa.text("external_id IS NOT NULL"),
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_index("items_status", "items", ["status", "next_attempt_at"])
    op.create_index("items_duplicates", "items", ["team_id", "supplier_key", "total"])
    op.create_table(
        "item_events",
        _id(),
        integer("item_id", null=False),
        text("status", null=False),
        text("detail"),
        text("actor"),
        text("at", null=False),
    )
    op.create_index("item_events_item", "item_events", ["item_id", "id"])
    op.create_table(
        "supplier_rules",
        integer("connection_id", null=False),
        text("name_key", null=False),
        text("supplier_id", null=False),
        text("supplier_name", null=False),
        text("created_by", null=False),
        text("created_at", null=False),
        sa.PrimaryKeyConstraint("connection_id", "name_key"),
    )


def _outbox() -> None:
    op.create_table(
        "outbox",
        _id(),
        text("team_id", null=False),
        text("method", null=False),
        text("purpose", null=False),
        text("lane", null=False),
        text("channel"),
        text("user_id"),
        text("thread_ts"),
        integer("item_id"),
        integer("group_id"),
        text("payload", null=False),
        text("fallbacks", null=False, default="[]"),
        text("note"),
        text("state", null=False, default="queued"),
        integer("attempts", null=False, default=0),
        text("next_at", null=False),
        text("last_error"),
        text("lease_owner"),
        text("lease_until"),
        text("created_at", null=False),
        text("sent_at"),
        text("ts"),
        check_in("method", ("chat.postMessage", "chat.update", "views.publish")),
        check_in("state", ("queued", "sent", "failed", "grouped")),
    )
    op.create_index("outbox_lanes", "outbox", ["state", "lane", "id"])
    op.create_index("outbox_due", "outbox", ["state", "next_at"])
    op.create_index("outbox_item", "outbox", ["item_id", "state"])
    op.create_table(
        "outbox_pace",
        text("team_id", null=False),
        text("key", null=False),
        text("not_before", null=False),
        sa.PrimaryKeyConstraint("team_id", "key"),
    )
    op.create_table(
        "message_groups",
        _id(),
        text("team_id", null=False),
        text("channel", null=False),
        text("ts"),
        text("created_at", null=False),
    )
    op.create_index("message_groups_channel", "message_groups", ["team_id", "channel", "id"])
    op.create_table(
        "message_group_items",
        integer("item_id", null=False),
        integer("group_id", null=False),
        text("opened_at"),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index("message_group_items_group", "message_group_items", ["group_id", "item_id"])
