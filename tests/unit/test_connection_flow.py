"""OAuth states, pending grants and the settings form, without Slack or a provider."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from bot.clock import FixedClock
from handlers import connection_messages, ids
from handlers.settings import parse_submission
from providers.base import Tenant, TokenSet
from store import OAuthState, open_store

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def store(tmp_path, clock):
    s = open_store(str(tmp_path / "l.db"), secret_key=Fernet.generate_key().decode(), clock=clock)
    yield s
    s.close()


def new_state(store, **changes):
    values = dict(
        team_id="T1",
        user_id="U1",
        channel_id="C1",
        response_url=None,
        provider="xero",
        purpose="connect",
        code_verifier="verifier-123",
    )
    values.update(changes)
    return store.create_oauth_state(OAuthState(**values))


def test_state_is_single_use(store):
    """A state is consumed once; the second use finds nothing."""
    state = new_state(store)
    first = store.consume_oauth_state(state, "xero")
    assert (first.team_id, first.user_id, first.code_verifier) == ("T1", "U1", "verifier-123")
    assert store.consume_oauth_state(state, "xero") is None


def test_state_expires_after_ten_minutes(store, clock):
    """A login link is good for ten minutes: a state used at 9 min 59 s completes the login,
    one used at 10 min 1 s is refused."""
    early, late = new_state(store), new_state(store)
    clock.advance(minutes=9, seconds=59)
    assert store.consume_oauth_state(early, "xero") is not None
    clock.advance(seconds=2)
    assert store.consume_oauth_state(late, "xero") is None


def test_state_is_bound_to_its_provider(store):
    """A Xero state can't complete a QuickBooks login."""
    state = new_state(store)
    assert store.consume_oauth_state(state, "quickbooks") is None
    assert store.consume_oauth_state(state, "xero") is not None


def test_state_and_verifier_are_not_stored_in_clear(store, tmp_path):
    """Only a hash of the state and an encrypted PKCE verifier reach the database file."""
    state = new_state(store, code_verifier="pkce-verifier-plain-5521")
    store.database.execute("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("l.db"))
    assert state.encode() not in raw and b"pkce-verifier-plain-5521" not in raw


def test_pending_grant_is_bound_to_team_and_user_and_single_use(store, clock):
    """Only the admin who logged in, in their workspace, can use a pending grant, once."""
    state = store.consume_oauth_state(new_state(store), "xero")
    tokens = TokenSet("acc", "ref", NOW + timedelta(minutes=30))
    grant = store.create_pending_grant(state, tokens, (Tenant("a", "A"), Tenant("b", "B")))
    assert store.consume_pending_grant(grant.id, team_id="T2", user_id="U1") is None
    assert store.consume_pending_grant(grant.id, team_id="T1", user_id="U2") is None
    used = store.consume_pending_grant(grant.id, team_id="T1", user_id="U1")
    assert used.tokens.refresh_token == "ref" and [t.name for t in used.tenants] == ["A", "B"]
    assert store.consume_pending_grant(grant.id, team_id="T1", user_id="U1") is None


def test_pending_grant_expires(store, clock):
    """An unanswered organisation choice expires after 30 minutes."""
    state = store.consume_oauth_state(new_state(store), "xero")
    grant = store.create_pending_grant(state, TokenSet("a", "r", NOW), (Tenant("a", "A"),))
    clock.advance(minutes=31)
    assert store.consume_pending_grant(grant.id, team_id="T1", user_id="U1") is None


def values(*, warn=True, channel="C123", status="DRAFT", account=None) -> dict:
    return {
        ids.SETTINGS_WARN_BLOCK: {
            ids.SETTINGS_WARN: {"selected_options": [{"value": "on"}] if warn else []}
        },
        ids.SETTINGS_CHANNEL_BLOCK: {ids.SETTINGS_CHANNEL: {"selected_conversation": channel}},
        ids.SETTINGS_STATUS_BLOCK: {
            ids.SETTINGS_STATUS: {"selected_option": {"value": status} if status else None}
        },
        ids.SETTINGS_ACCOUNT_BLOCK: {
            ids.SETTINGS_ACCOUNT: {"selected_option": {"value": account} if account else None}
        },
    }


def test_settings_submission_parses():
    """A valid form becomes Settings."""
    settings, errors = parse_submission(
        values(warn=False, account="429"), statuses=("DRAFT", "AUTHORISED"), account_codes={"429"}
    )
    assert errors == {}
    assert (
        settings.warn_new_supplier,
        settings.notification_channel,
        settings.bill_status,
        settings.default_account_code,
    ) == (False, "C123", "DRAFT", "429")


def test_settings_submission_reports_each_bad_field():
    """A status the provider can't do, an unknown account or a forged channel are field errors."""
    settings, errors = parse_submission(
        values(status="PAID", account="999", channel="<!x>"),
        statuses=("AUTHORISED",),
        account_codes={"429"},
    )
    assert settings is None
    assert set(errors) == {
        ids.SETTINGS_STATUS_BLOCK,
        ids.SETTINGS_ACCOUNT_BLOCK,
        ids.SETTINGS_CHANNEL_BLOCK,
    }


def test_settings_views_validate_as_block_kit():
    """The editable and read-only settings modals are valid views."""
    from slack_sdk.models.views import View

    from store import Settings

    for editable in (True, False):
        view = connection_messages.settings_view(
            Settings(notification_channel="C1", default_account_code="429"),
            accounts=[("429", "General Expenses"), ("400", "Advertising")],
            bill_statuses=("DRAFT", "AUTHORISED"),
            editable=editable,
        )
        View(**view).validate_json()
        assert ("submit" in view) is editable
