"""Slack installations (multi-workspace mode), with their tokens encrypted at rest.

slack_sdk's installation stores keep each workspace's bot token, refresh token, user token and
incoming-webhook URL in the clear. `EncryptedInstallationStore` wraps slack_sdk's store for the
backend (its SQLite store in ledgerlink's database file, its SQLAlchemy store on PostgreSQL;
tables `slack_installations`, `slack_bots`) and encrypts those columns with the key that
encrypts provider tokens (`LEDGERLINK_SECRET_KEY`, rotation included); SQLite rows stored before
encryption are encrypted by legacy migration m008. Slack's install states live beside them
(`slack_state_store`).
"""

from __future__ import annotations

import logging
from copy import copy

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore

from store.database import Database
from store.secrets import Cipher

# The columns of slack_sdk's tables that hold credentials, by table.
SECRET_COLUMNS = {
    "slack_installations": (
        "bot_token",
        "bot_refresh_token",
        "user_token",
        "user_refresh_token",
        "incoming_webhook_url",
    ),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}
_INSTALLATION = SECRET_COLUMNS["slack_installations"]
_BOT = SECRET_COLUMNS["slack_bots"]


class EncryptedInstallationStore(InstallationStore):
    """An installation store for Bolt whose rows hold tokens encrypted, never in clear."""

    def __init__(self, *, database: Database, client_id: str, cipher: Cipher):
        # Tables: slack_sdk's SQLite store makes its own; on PostgreSQL revision 0002 does.
        if database.postgresql:
            self._rows = SQLAlchemyInstallationStore(client_id=client_id, engine=database.engine)
        else:
            self._rows = SQLite3InstallationStore(database=database.path, client_id=client_id)
        self._cipher = cipher

    @property
    def logger(self) -> logging.Logger:
        return self._rows.logger

    def save(self, installation: Installation) -> None:
        # slack_sdk saves the installation's bot (already encrypted here) in slack_bots too.
        self._rows.save(self._convert(installation, _INSTALLATION, self._cipher.encrypt))

    def save_bot(self, bot: Bot) -> None:
        self._rows.save_bot(self._convert(bot, _BOT, self._cipher.encrypt))

    def find_bot(self, *, enterprise_id, team_id, is_enterprise_install=False) -> Bot | None:
        bot = self._rows.find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return self._convert(bot, _BOT, self._cipher.decrypt) if bot else None

    def find_installation(
        self, *, enterprise_id, team_id, user_id=None, is_enterprise_install=False
    ) -> Installation | None:
        installation = self._rows.find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        if installation is None:
            return None
        return self._convert(installation, _INSTALLATION, self._cipher.decrypt)

    def delete_bot(self, *, enterprise_id, team_id) -> None:
        self._rows.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(self, *, enterprise_id, team_id, user_id=None) -> None:
        self._rows.delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    @staticmethod
    def _convert(record, fields: tuple[str, ...], convert):
        """A copy of `record` with its secret fields passed through `convert`."""
        converted = copy(record)
        for name in fields:
            value = getattr(record, name, None)
            if value is not None:
                setattr(converted, name, convert(value))
        return converted


def slack_state_store(database: Database, expiration_seconds: int) -> OAuthStateStore:
    """slack_sdk's store of Slack install states (single use, expiring), in the database."""
    if database.postgresql:
        return SQLAlchemyOAuthStateStore(
            expiration_seconds=expiration_seconds, engine=database.engine
        )
    return SQLite3OAuthStateStore(database=database.path, expiration_seconds=expiration_seconds)


def encrypt_stored_tokens(db, cipher: Cipher) -> int:
    """Encrypt every token slack_sdk's tables hold in clear (from before they were encrypted);
    returns how many rows changed. The tables may not exist: slack_sdk creates them on the
    first install."""
    changed = 0
    for table, columns in SECRET_COLUMNS.items():
        if not db[table].exists():
            continue
        for row in db.query(f"SELECT id, {', '.join(columns)} FROM {table}"):  # noqa: S608
            update = {c: cipher.encrypt(row[c]) for c in columns if row[c] is not None}
            if update:
                db[table].update(row["id"], update)
                changed += 1
    return changed
