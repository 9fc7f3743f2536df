"""Slack installations (multi-workspace mode): tokens encrypted at rest, rows from before
encryption migrated, uninstalls and revocations still deleting them."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_bolt.context.context import BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
from sqlite_utils import Database

from store import SecretKeyError, open_store
from store.installations import EncryptedInstallationStore
from store.legacy_migrations import MIGRATIONS

CLIENT_ID = "111.222"
BOT_TOKEN = "xoxb-bot-token-5f1d2e"
BOT_REFRESH = "xoxe-1-bot-refresh-8c3a"
USER_TOKEN = "xoxp-user-token-77ab"
WEBHOOK = "https://hooks.slack.test/services/T1/B1/webhook-secret-41"
SECRETS = (BOT_TOKEN, BOT_REFRESH, USER_TOKEN, WEBHOOK)


def installation(team_id: str = "T1", bot_token: str = BOT_TOKEN) -> Installation:
    return Installation(
        app_id="A1",
        team_id=team_id,
        team_name="Acme",
        bot_token=bot_token,
        bot_id="B1",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        bot_refresh_token=BOT_REFRESH,
        bot_token_expires_in=43200,
        user_id="UADMIN",
        user_token=USER_TOKEN,
        user_scopes="",
        incoming_webhook_url=WEBHOOK,
        incoming_webhook_channel="#accounts",
        incoming_webhook_channel_id="C1",
    )


def raw_bytes(db_path: Path) -> bytes:
    """The database file, its WAL and shared memory, byte for byte."""
    files = db_path.parent.glob(db_path.name + "*")
    return b"".join(f.read_bytes() for f in files if not f.name.endswith(".key"))


def leaked(db_path: Path) -> list[str]:
    data = raw_bytes(db_path)
    return [secret for secret in SECRETS if secret.encode() in data]


@pytest.fixture
def key() -> str:
    return Fernet.generate_key().decode()


def open_installations(db_path: Path, key: str):
    store = open_store(str(db_path), secret_key=key)
    return store, EncryptedInstallationStore(
        database=store.database, client_id=CLIENT_ID, cipher=store.cipher
    )


def test_tokens_are_stored_encrypted_and_read_back_in_clear(tmp_path, key):
    """An installation's bot, refresh and user tokens and webhook URL never reach the file in
    clear, and Bolt gets them back from find_bot and find_installation."""
    db_path = tmp_path / "l.db"
    store, installations = open_installations(db_path, key)
    installations.save(installation())
    assert leaked(db_path) == []
    bot = installations.find_bot(enterprise_id=None, team_id="T1")
    assert (bot.bot_token, bot.bot_refresh_token) == (BOT_TOKEN, BOT_REFRESH)
    found = installations.find_installation(enterprise_id=None, team_id="T1")
    assert (found.bot_token, found.user_token, found.incoming_webhook_url) == (
        BOT_TOKEN,
        USER_TOKEN,
        WEBHOOK,
    )
    assert found.bot_refresh_token == BOT_REFRESH
    for table in ("slack_installations", "slack_bots"):
        [row] = store.database.rows(f"SELECT bot_token FROM {table}")  # noqa: S608
        assert row["bot_token"].startswith("gAAAA")  # a Fernet token
    store.close()


def test_a_rotated_key_still_reads_old_rows_and_encrypts_new_ones_with_the_new_key(tmp_path, key):
    """With LEDGERLINK_SECRET_KEY="new,old", installations saved under the old key are still
    found, and new ones are encrypted with the new key; a key that was never used fails
    clearly instead of handing Bolt garbage."""
    db_path = tmp_path / "l.db"
    store, installations = open_installations(db_path, key)
    installations.save(installation("T1"))
    store.close()
    new = Fernet.generate_key().decode()
    store, installations = open_installations(db_path, f"{new},{key}")
    assert installations.find_bot(enterprise_id=None, team_id="T1").bot_token == BOT_TOKEN
    installations.save(installation("T2", bot_token="xoxb-second-workspace-3344"))
    [row] = store.database.rows("SELECT bot_token FROM slack_bots WHERE team_id = 'T2'")
    assert Fernet(new).decrypt(row["bot_token"].encode()) == b"xoxb-second-workspace-3344"
    store.close()
    store, installations = open_installations(db_path, Fernet.generate_key().decode())
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        installations.find_bot(enterprise_id=None, team_id="T1")
    store.close()


def test_rows_stored_in_clear_before_are_encrypted_by_the_migration(tmp_path, key):
    """A database whose installations slack_sdk stored in clear (before m008) is encrypted
    when it is opened: no token is left in the file, its WAL or its free space, and the
    workspace's tokens are still found."""
    db_path = tmp_path / "l.db"
    before = Database(str(db_path))
    MIGRATIONS.apply(before, stop_before="m008_encrypt_slack_tokens")
    before.conn.close()
    SQLite3InstallationStore(database=str(db_path), client_id=CLIENT_ID).save(installation())
    assert leaked(db_path) == list(SECRETS)  # the test saw them in clear first
    store, installations = open_installations(db_path, key)
    assert leaked(db_path) == []
    found = installations.find_installation(enterprise_id=None, team_id="T1")
    assert (found.bot_token, found.bot_refresh_token, found.user_token) == (
        BOT_TOKEN,
        BOT_REFRESH,
        USER_TOKEN,
    )
    assert installations.find_bot(enterprise_id=None, team_id="T1").bot_token == BOT_TOKEN
    store.close()
    store, installations = open_installations(db_path, key)  # the migration runs once
    assert installations.find_bot(enterprise_id=None, team_id="T1").bot_token == BOT_TOKEN
    store.close()


def test_uninstall_and_revocation_delete_the_stored_tokens(tmp_path, key):
    """Bolt's listeners for tokens_revoked (bot) and app_uninstalled delete the rows through
    the encrypted store, only for the workspace concerned."""
    db_path = tmp_path / "l.db"
    store, installations = open_installations(db_path, key)
    installations.save(installation("T1"))
    installations.save(installation("T2", bot_token="xoxb-other-workspace-9911"))
    listeners = TokenRevocationListeners(installations)
    context = BoltContext({"enterprise_id": None, "team_id": "T1"})
    listeners.handle_tokens_revoked_events({"tokens": {"bot": ["UBOT"]}}, context)
    assert installations.find_bot(enterprise_id=None, team_id="T1") is None
    listeners.handle_app_uninstalled_events(context)
    assert installations.find_installation(enterprise_id=None, team_id="T1") is None
    assert store.database.rows("SELECT * FROM slack_installations WHERE team_id = 'T1'") == []
    other = installations.find_bot(enterprise_id=None, team_id="T2")
    assert other.bot_token == "xoxb-other-workspace-9911"
    store.close()
