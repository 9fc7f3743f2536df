"""The SQLite-only migrations (sqlite-utils) that built the schema before Alembic took over.

Frozen: they run only on an SQLite file made by an older ledgerlink (one with a
`_sqlite_migrations` table), to bring it to m009, which Alembic's baseline revision equals
(`store.migrations`). New schema changes are Alembic revisions in store/alembic/versions.
"""

from __future__ import annotations

from contextvars import ContextVar

from sqlite_utils import Migrations

from store.installations import encrypt_stored_tokens
from store.secrets import Cipher

MIGRATIONS = Migrations("ledgerlink")
# Migrations that rewrite secrets need the token key; `apply` hands it to them.
_CIPHER: ContextVar[Cipher | None] = ContextVar("ledgerlink_migration_cipher", default=None)
_REWRITE_SECRETS = {"m008_encrypt_slack_tokens"}


def apply(db, cipher: Cipher) -> None:
    """Apply pending migrations; `cipher` encrypts whatever they store."""
    rewrites = _REWRITE_SECRETS & {migration.name for migration in MIGRATIONS.pending(db)}
    reset = _CIPHER.set(cipher)
    try:
        MIGRATIONS.apply(db)
    finally:
        _CIPHER.reset(reset)
    if rewrites:
        # The values they replaced must not linger in the write-ahead log either.
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@MIGRATIONS()
def m001_foundation(db):
    db.executescript(
        """
        CREATE TABLE workspaces (
            team_id TEXT PRIMARY KEY,
            team_name TEXT,
            enterprise_id TEXT,
            installed_at TEXT NOT NULL,
            uninstalled_at TEXT,
            warn_new_supplier INTEGER NOT NULL DEFAULT 1,
            notification_channel TEXT,
            bill_status TEXT NOT NULL DEFAULT 'DRAFT',
            default_account_code TEXT
        );
        CREATE TABLE admins (
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            added_by TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (team_id, user_id)
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            team_id TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}',
            at TEXT NOT NULL
        );
        CREATE INDEX audit_log_team ON audit_log (team_id, id);
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            team_id TEXT NOT NULL,
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            hint TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT,
            last_used_at TEXT
        );
        CREATE INDEX api_tokens_team ON api_tokens (team_id);
        """
    )


@MIGRATIONS()
def m002_connections(db):
    db.executescript(
        """
        CREATE TABLE connections (
            id INTEGER PRIMARY KEY,
            team_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            tenant_id TEXT NOT NULL,
            tenant_name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'revoked', 'disconnected')),
            status_reason TEXT,
            access_token TEXT,
            refresh_token TEXT,
            access_expires_at TEXT,
            refresh_expires_at TEXT,
            token_version INTEGER NOT NULL DEFAULT 0,
            refresh_lock_owner TEXT,
            refresh_lock_until TEXT,
            connected_by TEXT NOT NULL,
            connected_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            channel_id TEXT,
            disconnected_by TEXT,
            disconnected_at TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX connections_team ON connections (team_id, id);
        CREATE TABLE oauth_states (
            state_hash TEXT PRIMARY KEY,
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            channel_id TEXT,
            provider TEXT NOT NULL,
            purpose TEXT NOT NULL,
            code_verifier TEXT,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        """
    )


@MIGRATIONS()
def m003_connect_flow(db):
    db.executescript(
        """
        ALTER TABLE oauth_states ADD COLUMN response_url TEXT;
        ALTER TABLE oauth_states ADD COLUMN connection_id INTEGER;
        CREATE TABLE pending_grants (
            id TEXT PRIMARY KEY,
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            channel_id TEXT,
            response_url TEXT,
            provider TEXT NOT NULL,
            purpose TEXT NOT NULL,
            connection_id INTEGER,
            access_token TEXT NOT NULL,
            refresh_token TEXT NOT NULL,
            access_expires_at TEXT NOT NULL,
            refresh_expires_at TEXT,
            tenants TEXT NOT NULL,
            chosen_tenant_id TEXT,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        """
    )


@MIGRATIONS()
def m004_sync(db):
    db.executescript(
        """
        -- Synced lists: one row per record, per connection and kind. Archived records stay,
        -- marked inactive.
        CREATE TABLE list_records (
            connection_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            name TEXT NOT NULL,
            code TEXT,
            active INTEGER NOT NULL,
            updated_at TEXT,
            raw TEXT NOT NULL,
            synced_at TEXT NOT NULL,
            sync_run_id INTEGER,  -- the sync that last wrote it; NULL: stored directly
            PRIMARY KEY (connection_id, kind, remote_id)
        );
        CREATE INDEX list_records_active ON list_records (connection_id, kind, active, name);
        -- Where the next incremental fetch of each list starts.
        CREATE TABLE list_cursors (
            connection_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            cursor TEXT,
            synced_at TEXT NOT NULL,
            PRIMARY KEY (connection_id, kind)
        );
        -- Pages of a run in progress; merged into list_records in one transaction at the end.
        CREATE TABLE list_staging (
            run_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            name TEXT NOT NULL,
            code TEXT,
            active INTEGER NOT NULL,
            updated_at TEXT,
            raw TEXT NOT NULL,
            PRIMARY KEY (run_id, kind, remote_id)
        );
        CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY,
            connection_id INTEGER NOT NULL,
            team_id TEXT NOT NULL,
            full INTEGER NOT NULL,
            trigger TEXT NOT NULL,
            requested_by TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            result TEXT NOT NULL
                CHECK (result IN ('running', 'ok', 'failed', 'deferred', 'expired')),
            counts TEXT NOT NULL DEFAULT '{}',
            error TEXT,
            retry_at TEXT
        );
        CREATE INDEX sync_runs_connection ON sync_runs (connection_id, id);
        -- Named leases ("sync:12"): a row claimed until a (wall-clock) time by one owner.
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            until TEXT NOT NULL
        );
        -- Notices sent once per connection and key (reminders, alerts); the row is written
        -- before sending, so two processes can never both send one.
        CREATE TABLE notices (
            connection_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 1,
            retry_at TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            PRIMARY KEY (connection_id, kind, key)
        );
        -- When a connection's tokens last changed (refresh or reconnect), kept by a trigger so
        -- every code path that rotates tokens is covered; token health refreshes before the
        -- provider's idle limit from this time.
        CREATE TABLE token_refreshes (
            connection_id INTEGER PRIMARY KEY,
            refreshed_at TEXT NOT NULL
        );
        CREATE TRIGGER connections_tokens_changed AFTER UPDATE OF token_version ON connections
        WHEN NEW.token_version != OLD.token_version
        BEGIN
            INSERT INTO token_refreshes (connection_id, refreshed_at)
            VALUES (NEW.id, NEW.updated_at)
            ON CONFLICT (connection_id) DO UPDATE SET refreshed_at = excluded.refreshed_at;
        END;
        """
    )


@MIGRATIONS()
def m005_items(db):
    db.executescript(
        """
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            team_id TEXT NOT NULL,
            external_id TEXT,
            source TEXT NOT NULL,
            submitted_by TEXT,
            channel_id TEXT,
            thread_ts TEXT,
            supplier_name TEXT NOT NULL,
            supplier_key TEXT NOT NULL,
            date TEXT NOT NULL,
            due_date TEXT,
            total TEXT NOT NULL,
            currency TEXT,
            tax TEXT,
            reference TEXT,
            description TEXT,
            category TEXT,
            status TEXT NOT NULL CHECK (status IN ('received', 'needs_supplier', 'ready',
                'publishing', 'published', 'failed', 'held', 'discarded')),
            hold_reason TEXT,
            duplicate_of INTEGER,
            connection_id INTEGER,
            supplier_id TEXT,
            supplier_display TEXT,
            resolution TEXT,
            resolved_by TEXT,
            idempotency_key TEXT,
            bill_id TEXT,
            bill_url TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error TEXT,
            prompt_channel TEXT,
            prompt_ts TEXT,
            prompt_reminded_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX items_external ON items (team_id, external_id)
            WHERE external_id IS NOT NULL;
        CREATE INDEX items_status ON items (status, next_attempt_at);
        CREATE INDEX items_duplicates ON items (team_id, supplier_key, total);
        CREATE TABLE item_events (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL,
            status TEXT NOT NULL,
            detail TEXT,
            actor TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX item_events_item ON item_events (item_id, id);
        CREATE TABLE supplier_rules (
            connection_id INTEGER NOT NULL,
            name_key TEXT NOT NULL,
            supplier_id TEXT NOT NULL,
            supplier_name TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (connection_id, name_key)
        );
        """
    )


@MIGRATIONS()
def m006_rename_provider_oauth_states(db):
    # slack_sdk's SQLite OAuth state store (Slack installs) owns a table named oauth_states in
    # the same database file; ours holds provider logins, so it gets its own name.
    db.executescript("ALTER TABLE oauth_states RENAME TO provider_oauth_states;")


@MIGRATIONS()
def m008_encrypt_slack_tokens(db):
    # slack_sdk's installation store (multi-workspace mode) kept bot, refresh and user tokens
    # in clear; store.installations now encrypts them, and this encrypts the rows stored before.
    cipher = _CIPHER.get()
    if cipher is None:
        raise RuntimeError("m008_encrypt_slack_tokens needs the token key: use migrations.apply")
    db.execute("PRAGMA secure_delete = ON")  # overwrite the clear values, don't just free them
    encrypt_stored_tokens(db, cipher)


@MIGRATIONS()
def m007_sync_fidelity(db):
    db.executescript(
        """
        -- When each list was last read whole: lists are re-read whole on a schedule, since an
        -- incremental read can miss changes (Xero's supplier/customer flags).
        ALTER TABLE list_cursors ADD COLUMN full_at TEXT;
        -- The account an item's category resolved to (its id at the provider), fixed when the
        -- item is accepted; the typed category stays in `category` and the history.
        ALTER TABLE items ADD COLUMN category_account_id TEXT;
        """
    )


@MIGRATIONS()
def m009_outbox(db):
    # Every message the app means to send is a row here, written with the change that causes
    # it; a sender delivers the rows in order per lane, paced, and records the outcome.
    db.executescript(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            team_id TEXT NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('chat.postMessage', 'chat.update',
                'views.publish')),
            purpose TEXT NOT NULL,
            lane TEXT NOT NULL,
            channel TEXT,
            user_id TEXT,
            thread_ts TEXT,
            item_id INTEGER,
            group_id INTEGER,
            payload TEXT NOT NULL,
            fallbacks TEXT NOT NULL DEFAULT '[]',
            note TEXT,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed',
                'grouped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at TEXT NOT NULL,
            last_error TEXT,
            lease_owner TEXT,
            lease_until TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            ts TEXT
        );
        CREATE INDEX outbox_lanes ON outbox (state, lane, id);
        CREATE INDEX outbox_due ON outbox (state, next_at);
        CREATE INDEX outbox_item ON outbox (item_id, state);
        CREATE TABLE outbox_pace (
            team_id TEXT NOT NULL,
            key TEXT NOT NULL,
            not_before TEXT NOT NULL,
            PRIMARY KEY (team_id, key)
        );
        CREATE TABLE message_groups (
            id INTEGER PRIMARY KEY,
            team_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            ts TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX message_groups_channel ON message_groups (team_id, channel, id);
        CREATE TABLE message_group_items (
            item_id INTEGER PRIMARY KEY,
            group_id INTEGER NOT NULL,
            opened_at TEXT
        );
        CREATE INDEX message_group_items_group ON message_group_items (group_id, item_id);
        """
    )
