"""The SQLite store: migrations, WAL, secrets at rest, API tokens, admins."""

import os
import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from bot.clock import FixedClock
from providers.base import TokenSet
from store import Grant, SecretKeyError, migrations, open_store
from store.secrets import key_file_for
from tests.fakes.databases import BACKENDS

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Every test of the store's behaviour runs on both backends; the SQLite file's own
    properties (WAL, the key file beside it) on SQLite only."""
    return request.param


@pytest.fixture
def store(database_target):
    s = open_store(
        database_target, secret_key=Fernet.generate_key().decode(), clock=FixedClock(NOW)
    )
    yield s
    s.close()


def tokens(access="access-AAAA-1", refresh="refresh-RRRR-1") -> TokenSet:
    return TokenSet(
        access_token=access, refresh_token=refresh, access_expires_at=NOW + timedelta(minutes=30)
    )


def connect(store, access="access-AAAA-1", refresh="refresh-RRRR-1"):
    store.ensure_workspace("T1")
    return store.create_connection(
        team_id="T1",
        provider="xero",
        grant=Grant(
            tenant_id="t",
            tenant_name="Org",
            tokens=tokens(access, refresh),
            connected_by="U1",
            channel_id="C1",
            lifetime_days=365,
        ),
    )


def test_database_uses_wal_and_migrations_are_recorded(store, backend):
    """The database is at the newest schema revision (and an SQLite file is in WAL mode)."""
    if backend == "sqlite":
        assert store.database.row("PRAGMA journal_mode")["journal_mode"] == "wal"
    assert migrations.current_revision(store.database) == migrations.head_revision()
    assert migrations.head_revision() != migrations.BASELINE


def test_reopening_does_not_reapply_migrations(database_target):
    """Opening an existing database keeps its data and applies nothing twice."""
    key = Fernet.generate_key().decode()
    first = open_store(database_target, secret_key=key)
    first.ensure_workspace("T1", team_name="Acme")
    versions = first.database.rows("SELECT version_num FROM alembic_version")
    first.close()
    second = open_store(database_target, secret_key=key)
    assert second.workspace("T1")["team_name"] == "Acme"
    assert second.database.rows("SELECT version_num FROM alembic_version") == versions
    second.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_key_file_is_created_with_mode_0600_and_reused(tmp_path, backend):
    """Without LEDGERLINK_SECRET_KEY a key file appears beside the DB, private to its owner."""
    path = str(tmp_path / "l.db")
    first = open_store(path)
    connection = connect(first)
    first.close()
    key_file = key_file_for(path)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    second = open_store(path)
    assert second.connection_tokens(connection.id).access_token == "access-AAAA-1"
    second.close()


def test_bad_secret_key_is_a_clear_error(database_target):
    """A malformed LEDGERLINK_SECRET_KEY is refused with instructions."""
    with pytest.raises(SecretKeyError, match="LEDGERLINK_SECRET_KEY is not a Fernet key"):
        open_store(database_target, secret_key="hunter2")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_needs_the_secret_key_from_the_environment(database_target):
    """On PostgreSQL there is no file to keep a key in beside the database: without
    LEDGERLINK_SECRET_KEY the store refuses to open, saying why."""
    with pytest.raises(SecretKeyError, match="required with LEDGERLINK_DATABASE_URL"):
        open_store(database_target)


def test_tokens_are_never_stored_in_plain_text(store, database):
    """Nothing the database holds (an SQLite file's bytes) contains a token value."""
    connect(store, "plain-access-7781", "plain-refresh-9913")
    raw = database.stored_bytes()
    assert b"refresh_token" in raw or b"connections" in raw  # it really read the data
    assert b"plain-access-7781" not in raw and b"plain-refresh-9913" not in raw


def test_connection_expiry_and_history(store):
    """A connection expires after its lifetime; a disconnected one stays as history."""
    connection = connect(store)
    assert connection.expires_at == NOW + timedelta(days=365)
    assert store.current_connection("T1") == connection
    store.set_connection_status(connection.id, "disconnected", actor="U1")
    assert store.current_connection("T1") is None
    [old] = store.connection_history("T1")
    assert (old.status, old.disconnected_by) == ("disconnected", "U1")


def test_concurrent_refreshes_make_one_call(store):
    """Eight threads needing a refresh at once make exactly one refresh call."""
    connection = connect(store)
    used = store.connection_tokens(connection.id)
    calls = []
    barrier = threading.Barrier(8)

    def refresh(current):
        calls.append(current.refresh_token)
        return tokens("access-2", "refresh-2")

    results = []

    def worker():
        barrier.wait()
        results.append(store.refresh_connection_tokens(connection.id, used, refresh))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["refresh-RRRR-1"]
    assert {r.refresh_token for r in results} == {"refresh-2"}
    assert store.connection_tokens(connection.id).version == used.version + 1


def test_failed_refresh_releases_the_lock_and_keeps_old_tokens(store):
    """A refresh that raises leaves the old tokens and lets the next caller try."""
    connection = connect(store)
    used = store.connection_tokens(connection.id)

    def boom(current):
        raise RuntimeError("provider down")

    with pytest.raises(RuntimeError):
        store.refresh_connection_tokens(connection.id, used, boom)
    assert store.connection_tokens(connection.id).refresh_token == "refresh-RRRR-1"
    again = store.refresh_connection_tokens(connection.id, used, lambda c: tokens("a3", "r3"))
    assert again.refresh_token == "r3"


def test_api_tokens_are_hashed_and_revocable(store, database):
    """Only a hash is stored; a revoked token no longer authenticates."""
    store.ensure_workspace("T1")
    record, token = store.create_api_token("T1", "ci")
    assert token.startswith("llk_") and record.hint == token[-4:]
    assert store.authenticate_api_token(token).id == record.id
    assert store.authenticate_api_token(token + "x") is None
    raw = database.stored_bytes()
    assert record.hint.encode() in raw  # it really read the data
    assert token.encode() not in raw
    assert store.revoke_api_token(record.id)
    assert store.authenticate_api_token(token) is None
    assert not store.revoke_api_token(record.id)


def test_admins_are_per_workspace(store):
    """An admin granted in one workspace is not an admin in another."""
    assert store.add_admin("T1", "U1", added_by="U0")
    assert not store.add_admin("T1", "U1", added_by="U0")
    assert store.is_listed_admin("T1", "U1")
    assert not store.is_listed_admin("T2", "U1")
    assert store.remove_admin("T1", "U1") and not store.is_listed_admin("T1", "U1")


def test_settings_default_and_roundtrip(store):
    """Settings default to warn-on, draft bills; saved settings read back the same."""
    from store import Settings

    assert store.settings("T9") == Settings()
    store.save_settings(
        "T9",
        Settings(
            warn_new_supplier=False,
            notification_channel="C9",
            bill_status="AUTHORISED",
            default_account_code="400",
        ),
    )
    assert store.settings("T9").bill_status == "AUTHORISED"
    with pytest.raises(ValueError):
        store.save_settings("T9", Settings(bill_status="PAID"))


def test_rotated_keys_read_old_tokens_and_write_with_the_new_key(database_target):
    """Tokens written under key A are read after rotating to "B,A", are re-encrypted under B
    when written again, and once every key that wrote them is gone the store says plainly
    that it cannot decrypt them."""
    path = database_target
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with_a = open_store(path, secret_key=key_a, clock=FixedClock(NOW))
    connection = connect(with_a, "access-under-a", "refresh-under-a")
    with_a.close()

    rotated = open_store(path, secret_key=f"{key_b},{key_a}", clock=FixedClock(NOW))
    used = rotated.connection_tokens(connection.id)
    assert (used.access_token, used.refresh_token) == ("access-under-a", "refresh-under-a")
    rotated.refresh_connection_tokens(
        connection.id, used, lambda current: tokens("access-under-b", "refresh-under-b")
    )
    stored = rotated.database.row(
        "SELECT access_token, refresh_token FROM connections WHERE id = ?", (connection.id,)
    )
    rotated.close()
    only_b = Fernet(key_b.encode())
    assert only_b.decrypt(stored["access_token"].encode()) == b"access-under-b"
    assert only_b.decrypt(stored["refresh_token"].encode()) == b"refresh-under-b"

    lost = open_store(path, secret_key=Fernet.generate_key().decode(), clock=FixedClock(NOW))
    try:
        with pytest.raises(SecretKeyError, match="cannot be decrypted with the configured key"):
            lost.connection_tokens(connection.id)
    finally:
        lost.close()
