"""Config.from_env and the serve-mode checks."""

import pytest

from bot.config import Config, ConfigError


def test_defaults_match_the_design_table():
    """With nothing set, every default is the one DESIGN.md documents."""
    config = Config.from_env({})
    assert config.slack_api_url == "https://slack.com/api/"
    assert config.db_path == "./ledgerlink.db"
    assert config.public_url == "http://localhost:3000"
    assert (config.sync_interval_hours, config.connection_lifetime_days) == (48, 365)
    assert config.reminder_days == (30, 7, 1)
    assert config.xero_scopes == (
        "offline_access accounting.settings accounting.contacts accounting.invoices"
    )
    assert config.qbo_api_url == "https://quickbooks.api.intuit.com"
    assert config.xero is None and config.quickbooks is None


def test_sandbox_selects_the_sandbox_host():
    """QBO_ENVIRONMENT=sandbox picks Intuit's sandbox API host unless QBO_API_URL is given."""
    assert Config.from_env({"QBO_ENVIRONMENT": "sandbox"}).qbo_api_url == (
        "https://sandbox-quickbooks.api.intuit.com"
    )
    assert (
        Config.from_env({"QBO_ENVIRONMENT": "sandbox", "QBO_API_URL": "http://q.test/"}).qbo_api_url
        == "http://q.test"
    )


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        ({"LEDGERLINK_SYNC_INTERVAL_HOURS": "soon"}, "LEDGERLINK_SYNC_INTERVAL_HOURS", "whole"),
        (
            {"LEDGERLINK_CONNECTION_LIFETIME_DAYS": "0"},
            "LEDGERLINK_CONNECTION_LIFETIME_DAYS",
            "> 0",
        ),
        ({"LEDGERLINK_REMINDER_DAYS": "30,x"}, "LEDGERLINK_REMINDER_DAYS", "30,7,1"),
        ({"SLACK_API_URL": "slack.com"}, "SLACK_API_URL", "http(s) URL"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN", "xoxb-"),
        ({"XERO_CLIENT_ID": "abc"}, "XERO_CLIENT_SECRET", "both"),
        ({"QBO_ENVIRONMENT": "staging"}, "QBO_ENVIRONMENT", "production, sandbox"),
        ({"LEDGERLINK_ADMINS": "U1,bob"}, "LEDGERLINK_ADMINS", "Slack user ID"),
    ],
)
def test_malformed_values_name_the_variable(env, variable, words):
    """A malformed value fails with the variable's name and what is wrong."""
    with pytest.raises(ConfigError) as caught:
        Config.from_env(env)
    assert caught.value.variable == variable
    assert words.replace("> 0", "greater than 0") in str(caught.value)


def test_reminder_days_are_sorted_and_deduplicated():
    """Reminder days come out largest first, each once."""
    assert Config.from_env({"LEDGERLINK_REMINDER_DAYS": "1, 7,30,7"}).reminder_days == (30, 7, 1)


def test_serve_checks_per_mode():
    """HTTP mode needs credentials and a signing secret; Socket Mode needs an app token."""
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN: no Slack credentials"):
        Config.from_env({}).check_serve(socket_mode=False)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        Config.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).check_serve(socket_mode=False)
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        Config.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).check_serve(socket_mode=True)
    with pytest.raises(ConfigError, match="not both"):
        Config.from_env(
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_CLIENT_ID": "1",
                "SLACK_CLIENT_SECRET": "2",
                "SLACK_SIGNING_SECRET": "s",
            }
        ).check_serve(socket_mode=False)
    Config.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}).check_serve(
        socket_mode=True
    )
    Config.from_env(
        {"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2", "SLACK_SIGNING_SECRET": "s"}
    ).check_serve(socket_mode=False)
