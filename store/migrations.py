"""Versioned schema migrations. Append new migrations at the end; never edit an applied one."""

from __future__ import annotations

from sqlite_utils import Migrations

MIGRATIONS = Migrations("ledgerlink")


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
