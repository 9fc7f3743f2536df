"""The admin policy (cache, fail closed) and log redaction."""

import logging

import pytest
from slack_sdk import WebClient

from bot.admins import AdminPolicy
from bot.app import create_app
from bot.clock import SystemClock
from bot.config import Config
from bot.errors import SlackUnavailable
from bot.logsetup import RedactingFormatter
from store import open_store
from tests.conftest import ADMIN, STAFF


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


class FakeStore:
    def __init__(self, listed=()):
        self.listed = set(listed)

    def is_listed_admin(self, team_id, user_id):
        return (team_id, user_id) in self.listed

    def admins(self, team_id):
        return [{"user_id": u} for t, u in sorted(self.listed) if t == team_id]


def test_slack_admin_answers_are_cached_for_a_while(fake_slack):
    """users.info is asked once per user within the cache time, again after it."""
    clock = Clock()
    policy = AdminPolicy(store=FakeStore(), configured=(), monotonic=clock)
    client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    assert policy.is_admin(client, "T0001", ADMIN)
    assert not policy.is_admin(client, "T0001", STAFF)
    assert policy.is_admin(client, "T0001", ADMIN)
    assert len(fake_slack.calls_to("users.info")) == 2
    clock.t = 301
    policy.is_admin(client, "T0001", ADMIN)
    assert len(fake_slack.calls_to("users.info")) == 3


def test_configured_and_listed_admins_need_no_slack_call(fake_slack):
    """LEDGERLINK_ADMINS and the admins table grant admin without asking Slack."""
    policy = AdminPolicy(store=FakeStore({("T0001", "ULISTED")}), configured=("UCONF",))
    client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    assert policy.is_admin(client, "T0001", "UCONF")
    assert policy.is_admin(client, "T0001", "ULISTED")
    assert not policy.is_admin(client, "T0002", "UNOBODY")
    assert policy.roster("T0001").named == ("UCONF", "ULISTED")


def test_slack_failure_fails_closed(fake_slack):
    """When Slack can't answer, the check raises a user-facing error instead of allowing."""
    fake_slack.fail_next("users.info", error="internal_error", status=500)
    policy = AdminPolicy(store=FakeStore(), configured=())
    client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    with pytest.raises(SlackUnavailable):
        policy.is_admin(client, "T0001", ADMIN)


def test_formatter_redacts_tokens_and_configured_secrets():
    """Slack tokens, bearer values, OAuth parameters and configured secrets become [redacted]."""
    formatter = RedactingFormatter("%(message)s", ["my-signing-secret"])
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "t=%s auth=Bearer abc.def body=refresh_token=zz&a=1 %s",
        ("xoxb-123-456-abc", "my-signing-secret"),
        None,
    )
    line = formatter.format(record)
    for secret in ("xoxb-123-456-abc", "abc.def", "zz&", "my-signing-secret"):
        assert secret not in line
    assert line.count("[redacted]") == 4


def test_a_bot_token_in_the_environment_starts_the_app_without_a_warning(
    fake_slack, tmp_path, monkeypatch, caplog
):
    """Bolt reads SLACK_BOT_TOKEN itself and would warn that the client ledgerlink gives it
    wins; that client carries the same token, so the app starts with no warning logged."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake_slack.bot_token)
    config = Config(
        slack_bot_token=fake_slack.bot_token,
        slack_signing_secret="s" * 32,
        slack_api_url=fake_slack.api_url,
        db_path=str(tmp_path / "l.db"),
    )
    store = open_store(config.db_path, secret_key=None)
    with caplog.at_level(logging.INFO):
        create_app(config, store=store, providers={}, clock=SystemClock())
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
